"""A minimal Lambda Runtime API client, as awslambdaric does it: import the handler module
(the cold start), then GET next, call the handler, POST its result, forever."""

import json
import os
import sys
import time
from http.client import HTTPConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handler  # noqa: E402  (the init phase: crhelper, the SDK, module-level clients)


class Context:
    def __init__(self, request_id, deadline_ms):
        self.aws_request_id = request_id
        self._deadline_ms = deadline_ms
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "baseline")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/baseline")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:baseline"

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def main():
    api = HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    while True:
        api.request("GET", "/2018-06-01/runtime/invocation/next")
        response = api.getresponse()
        event = json.loads(response.read())
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline = int(response.getheader("Lambda-Runtime-Deadline-Ms"))
        result = handler.handler(event, Context(request_id, deadline))
        body = json.dumps(result).encode()
        api.request("POST", "/2018-06-01/runtime/invocation/%s/response" % request_id, body)
        api.getresponse().read()


if __name__ == "__main__":
    main()
