"""A Lambda Invoke endpoint on loopback for `cfn test`, in front of the real binary.

    python3 lambda_endpoint.py PORT_FILE LOG_FILE -- BOOTSTRAP [ARGS...]

Serves `POST /2015-03-31/functions/{name}/invocations` (what boto3's Lambda `invoke` sends)
on 127.0.0.1, its port written to PORT_FILE once listening, and runs each invocation through
the Lambda Runtime API (/2018-06-01/runtime/...) that the bootstrap polls.

Every invocation starts a fresh bootstrap process (as a cold Lambda would) and stops it once
it answered: the registry handler must keep its state in `callbackContext` and ECS only, and
this is what proves it. The deadline handed to the process is the protocol's limit for the
action (60 s for CREATE/UPDATE/DELETE, 30 s for READ/LIST). A process that answers with an
error, exits, or misses its deadline gives the invoker a function error (boto3's
`FunctionError`), exactly as Lambda would. Process output goes to LOG_FILE.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME_PREFIX = "/2018-06-01/runtime/invocation/"
DEADLINE_SECONDS = {"READ": 30, "LIST": 30}
DEFAULT_DEADLINE_SECONDS = 60
# Beyond the deadline the bootstrap gets this long to report before it counts as timed out.
GRACE_SECONDS = 2


class Invocation:
    def __init__(self, payload: bytes):
        self.request_id = str(uuid.uuid4())
        self.payload = payload
        try:
            action = json.loads(payload).get("action")
        except (ValueError, AttributeError):
            action = None
        self.action = action
        self.deadline = time.time() + DEADLINE_SECONDS.get(action, DEFAULT_DEADLINE_SECONDS)
        self.done = threading.Event()
        self.stopped = threading.Event()
        self.result = None  # (function error kind or None, body bytes)
        self.taken = False


class Endpoint:
    """The Invoke side: one fresh bootstrap, with a Runtime API of its own, per invocation."""

    def __init__(self, command, log):
        self.command = command
        self.log = log
        self.invocations = 0
        self.serial = threading.Lock()  # Lambda would run concurrent calls in other sandboxes
        self.running = None  # the bootstrap serving the current invocation

    def stop(self, *_signal):
        """On SIGTERM: no bootstrap outlives the endpoint."""
        process = self.running
        if process is not None and process.poll() is None:
            process.kill()
        os._exit(0)

    def invoke(self, payload: bytes):
        with self.serial:
            return self._invoke(Invocation(payload))

    def _invoke(self, invocation):
        self.invocations += 1
        # A Runtime API per process: a poll left by a stopped process can never take the
        # next invocation.
        runtime = QuietServer(("127.0.0.1", 0), runtime_handler(invocation))
        threading.Thread(target=runtime.serve_forever, daemon=True).start()
        env = dict(os.environ)
        env.update(
            AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{runtime.server_address[1]}",
            AWS_LAMBDA_FUNCTION_NAME="TypeFunction",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
            AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
            AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/TypeFunction",
            AWS_LAMBDA_LOG_STREAM_NAME=f"contract/{invocation.request_id}",
            # Should a request ever name a provider log group, its lines go to a closed
            # loopback port, never to AWS.
            AWS_ENDPOINT_URL_CLOUDWATCH_LOGS="http://127.0.0.1:9",
        )
        self.log.write(f"--- invocation {self.invocations} {invocation.action} {invocation.request_id}\n")
        self.log.flush()
        process = subprocess.Popen(
            self.command, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log
        )
        self.running = process
        try:
            give_up = invocation.deadline + GRACE_SECONDS
            while not invocation.done.wait(timeout=0.02):
                if process.poll() is not None:
                    invocation.result = invocation.result or function_error(
                        "Runtime.ExitError",
                        f"bootstrap exited with {process.returncode} before answering",
                    )
                    break
                if time.time() > give_up:
                    invocation.result = function_error(
                        "Sandbox.Timedout", f"{invocation.action} did not answer within its deadline"
                    )
                    break
        finally:
            invocation.stopped.set()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            runtime.shutdown()
            runtime.server_close()
        self.log.write(f"--- answered: {invocation.result[1][:2000].decode(errors='replace')}\n")
        self.log.flush()
        return invocation.result


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A stopped bootstrap drops its kept-alive connection: expected, not worth a trace.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


def function_error(kind, message):
    return "Unhandled", json.dumps({"errorType": kind, "errorMessage": message}).encode()


class Responder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def runtime_handler(invocation):
    class RuntimeApi(Responder):
        def do_GET(self):
            if self.path != RUNTIME_PREFIX + "next":
                return self.answer(404, b'{"message":"unknown path"}')
            if invocation.taken:
                # The process answered and polls again: hold it until it is stopped.
                invocation.stopped.wait(timeout=600)
                return self.answer(503, b'{"message":"stopped"}')
            invocation.taken = True
            self.answer(
                200,
                invocation.payload,
                {
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(invocation.deadline * 1000)),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:TypeFunction",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                },
            )

        def do_POST(self):
            body = self.body()
            parts = self.path.strip("/").split("/")
            if self.path.startswith(RUNTIME_PREFIX) and len(parts) == 5 and parts[4] in ("response", "error"):
                if parts[3] != invocation.request_id or invocation.done.is_set():
                    return self.answer(400, b'{"message":"unknown or answered request id"}')
                invocation.result = (None if parts[4] == "response" else "Unhandled", body)
                invocation.done.set()
                return self.answer(202, b'{"status":"OK"}')
            if self.path == "/2018-06-01/runtime/init/error":
                invocation.result = ("Unhandled", body)
                invocation.done.set()
                return self.answer(202, b'{"status":"OK"}')
            return self.answer(404, b'{"message":"unknown path"}')

    return RuntimeApi


def invoke_handler(endpoint: Endpoint):
    class InvokeApi(Responder):
        def do_POST(self):
            body = self.body()
            if not (self.path.startswith("/2015-03-31/functions/") and self.path.endswith("/invocations")):
                return self.answer(404, b'{"message":"unknown path"}')
            error, result = endpoint.invoke(body)
            headers = {"X-Amz-Executed-Version": "$LATEST"}
            if error:
                headers["X-Amz-Function-Error"] = error
            self.answer(200, result, headers)

    return InvokeApi


def main():
    port_file, log_file, sep, *command = sys.argv[1:]
    if sep != "--" or not command:
        sys.exit("usage: lambda_endpoint.py PORT_FILE LOG_FILE -- BOOTSTRAP [ARGS...]")
    with open(log_file, "a", encoding="utf-8") as log:
        endpoint = Endpoint(command, log)
        signal.signal(signal.SIGTERM, endpoint.stop)
        server = QuietServer(("127.0.0.1", 0), invoke_handler(endpoint))
        with open(port_file + ".tmp", "w", encoding="utf-8") as f:
            f.write(str(server.server_address[1]))
        os.replace(port_file + ".tmp", port_file)
        server.serve_forever()


if __name__ == "__main__":
    main()
