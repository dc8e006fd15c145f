"""Side-by-side measurements of ecs-image-copy and the Python baseline, in one run.

A fake Lambda Runtime API and a ResponseURL receiver on 127.0.0.1 (this process), the ECS
emulator as its own process (`ecs-image-copy emulator`, which runs the separate `ecs-emulator`
binary beside it), and the function under test spawned as a Lambda bootstrap with
AWS_LAMBDA_RUNTIME_API pointing here. Both functions are driven identically; results go to a
JSON file that scripts/bench turns into BENCHMARKS.md.

    harness.py BINARY OUT.json [--smoke] [--secret-only | --registry-only]
"""

import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = os.path.join(ROOT, "tests", "events")
KEY_ID = "LTAIbenchKey0000000001"
SECRET = "bench-secret-000000000000000000"
SOURCE = ("m-bp1demo0source0001", "cn-hangzhou")
DEST_REGION = "cn-shanghai"


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle + delayed ACK
    # add 40 ms to every exchange.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass


def serve(handler):
    """A threaded HTTP server for `handler` on a free loopback port, in the background."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Runtime:
    """The Lambda Runtime API: hands out queued events, collects responses."""

    def __init__(self):
        self.events = queue.Queue()
        self.responses = queue.Queue()
        self.first_next = queue.Queue()
        self.handed_at = {}
        self.responded_at = {}
        runtime = self

        class Handler(QuietHandler):
            def do_GET(self):
                arrived = time.perf_counter()
                if not self.path.endswith("/invocation/next"):
                    self.send_error(404)
                    return
                runtime.first_next.put(arrived)
                event = runtime.events.get()
                if event is None:
                    self.close_connection = True
                    return
                request_id, body = event
                deadline_ms = int((time.time() + 900) * 1000)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline_ms))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:bench")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.end_headers()
                runtime.handed_at[request_id] = time.perf_counter()
                self.wfile.write(data)

            def do_POST(self):
                arrived = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                # /2018-06-01/runtime/invocation/{id}/response
                runtime.responded_at[self.path.rstrip("/").split("/")[-2]] = arrived
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                runtime.responses.put((self.path, body))

        self.server = serve(Handler)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.events.put(None)  # release a GET next still held
        self.server.shutdown()
        self.server.server_close()


class Receiver:
    """The stack engine's ResponseURL: timestamps each answer by its path."""

    def __init__(self):
        self.answers = queue.Queue()
        receiver = self

        class Handler(QuietHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                arrived = time.perf_counter()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.answers.put((self.path, arrived, json.loads(body)))

            do_PUT = _answer
            do_POST = _answer

        self.server = serve(Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]


class SecretsManager:
    """Secrets Manager's GetSecretValue for one secret holding the bench's AccessKey, on loopback:
    what reading the credentials from a secret adds to a cold start, without moto's own latency
    (tests/secrets_moto.rs is the check against moto). Counts the reads it answered."""

    ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecs-image-copy-bench-AbCdEf"

    def __init__(self):
        self.reads = 0
        sm = self

        class Handler(QuietHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                signed = self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential=ASIA")
                ok = (signed and self.headers.get("X-Amz-Target") == "secretsmanager.GetSecretValue"
                      and request.get("SecretId") == sm.ARN)
                secret = json.dumps({"AccessKeyId": KEY_ID, "AccessKeySecret": SECRET})
                answer = ({"ARN": sm.ARN, "Name": "ecs-image-copy-bench", "SecretString": secret} if ok
                          else {"__type": "ResourceNotFoundException", "message": "not the bench's request"})
                data = json.dumps(answer).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                sm.reads += ok

        self.server = serve(Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def env(self, env):
        """`env` with the AccessKey replaced by the secret's ARN, and a role's credentials."""
        env = dict(env, ALIBABA_CLOUD_CREDENTIALS_SECRET_ARN=self.ARN,
                   AWS_ENDPOINT_URL_SECRETS_MANAGER=self.base)
        del env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
        return env


def with_role(env):
    """The Lambda role's session credentials, as Lambda sets them."""
    return dict(env, AWS_ACCESS_KEY_ID="ASIABENCH000000000001", AWS_SECRET_ACCESS_KEY="bench-aws-secret",
                AWS_SESSION_TOKEN="bench-aws-session-token")


def cold_start_secret(binary, endpoint, runs):
    """Cold start of ours with the AccessKey in the environment and from a secret, interleaved,
    both with the role's credentials set; every secret run must have read the secret once."""
    sm = SecretsManager()
    function = Function("ecs-image-copy", [os.path.abspath(binary)])
    samples = {"environment": [], "secret": []}
    for _ in range(runs):
        for kind in samples:
            runtime = Runtime()
            env = with_role(function_env(runtime, endpoint))
            if kind == "secret":
                env = sm.env(env)
            spawned = function.spawn(env)
            samples[kind].append(runtime.first_next.get(timeout=30) - spawned)
            function.stop(runtime)
    assert sm.reads == runs, (sm.reads, runs)
    result = {kind: summary(s) for kind, s in samples.items()}
    result["added_median_ms"] = result["secret"]["median_ms"] - result["environment"]["median_ms"]
    return result


def start_emulator(binary, copy_seconds, images):
    args = [binary, "emulator", "--port", "0", "--copy-seconds", str(copy_seconds),
            "--image", "%s:%s" % SOURCE]
    for image_id in images:
        args += ["--image", "%s:%s" % (image_id, DEST_REGION)]
    env = dict(os.environ, ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET)
    env.pop("ALIBABA_CLOUD_SECURITY_TOKEN", None)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    endpoint = proc.stdout.readline().strip()
    if not endpoint.startswith("http://127.0.0.1:"):
        raise SystemExit("emulator did not start: %r" % endpoint)
    return proc, endpoint


def function_env(runtime, endpoint):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench-stream",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "ALIBABA_CLOUD_REGION_ID": DEST_REGION,
        "ALIBABA_CLOUD_ECS_ENDPOINT": endpoint,
        "RUST_LOG": "warn",
        "BASELINE_POLL_SECONDS": "1",
    }
    return env


class Function:
    """One function under test, spawned as a Lambda bootstrap."""

    def __init__(self, name, argv):
        self.name = name
        self.argv = argv
        self.proc = None

    def spawn(self, env):
        spawned = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return spawned

    def stop(self, runtime):
        """Ends the process; returns its peak RSS in KiB as the kernel reports it.

        Read as VmHWM from /proc just before the kill, not as wait4's ru_maxrss: a child
        forked from this Python process carries Python's own RSS as its peak from before
        exec, which would be counted against the function under test."""
        with open("/proc/%d/status" % self.proc.pid) as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        self.proc.send_signal(signal.SIGKILL)
        os.wait4(self.proc.pid, 0)
        self.proc.returncode = -9
        runtime.close()
        return peak


def load_event(name):
    with open(os.path.join(EVENTS, name)) as f:
        return json.load(f)


def invoke(runtime, receiver, event, timeout=120):
    """Hands one event to the function; returns (seconds event-in → answer-delivered, answer)."""
    request_id = str(uuid.uuid4())
    event = dict(event, ResponseURL="%s/cfn/%s?X-Amz-Signature=bench" % (receiver.base, request_id),
                 RequestId=request_id)
    runtime.events.put((request_id, event))
    path, arrived, answer = receiver.answers.get(timeout=timeout)
    assert request_id in path, (path, request_id)
    runtime.responses.get(timeout=timeout)  # the invocation ended; the next GET is on its way
    return arrived - runtime.handed_at.pop(request_id), answer


def cold_start(function, endpoint, runs):
    samples = []
    for _ in range(runs):
        runtime = Runtime()  # one per process: nothing left over can reach the next one
        spawned = function.spawn(function_env(runtime, endpoint))
        first = runtime.first_next.get(timeout=30)
        samples.append(first - spawned)
        function.stop(runtime)
    return samples


def overhead(function, receiver, endpoint, image_ids):
    """Delete of an existing image (DescribeImages, DeleteImage, DescribeImages) and no-op
    Update (no ECS call), alternating, on one warm process."""
    delete = load_event("cfn-tf-delete.json")
    update = load_event("cfn-tf-update.json")
    update["OldResourceProperties"] = update["ResourceProperties"]
    runtime = Runtime()
    function.spawn(function_env(runtime, endpoint))
    deletes, updates = [], []
    for image_id in image_ids:
        took, answer = invoke(runtime, receiver, dict(delete, PhysicalResourceId=image_id))
        assert answer["Status"] == "SUCCESS", answer
        deletes.append(took)
        took, answer = invoke(runtime, receiver, dict(update, PhysicalResourceId=image_id))
        assert answer["Status"] == "SUCCESS", answer
        updates.append(took)
    rss = function.stop(runtime)
    return deletes, updates, rss


def memory_status(pid):
    """RSS split as the kernel counts it, in KiB: file-backed pages (the binary, its shared
    libraries) and anonymous ones (heap, stacks, relocated data)."""
    with open("/proc/%d/status" % pid) as status:
        fields = dict(line.split(":", 1) for line in status)
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "RssAnon", "RssFile")}


def lifecycle(function, receiver, endpoint):
    """Create (a 2 s copy), in-place Update, Delete on a fresh process; peak RSS."""
    runtime = Runtime()
    function.spawn(function_env(runtime, endpoint))
    runtime.first_next.get(timeout=30)
    idle = memory_status(function.proc.pid)
    took_create, answer = invoke(runtime, receiver, load_event("cfn-tf-create.json"))
    assert answer["Status"] == "SUCCESS", answer
    image_id = answer["PhysicalResourceId"]
    _, answer = invoke(runtime, receiver, dict(load_event("cfn-tf-update.json"), PhysicalResourceId=image_id))
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == image_id, answer
    _, answer = invoke(runtime, receiver, dict(load_event("cfn-tf-delete.json"), PhysicalResourceId=image_id))
    assert answer["Status"] == "SUCCESS", answer
    end = memory_status(function.proc.pid)
    return function.stop(runtime), took_create, idle, end


class CloudWatchLogs:
    """CloudWatch Logs on loopback for the registry handler's log shipping: accepts every call
    (PutLogEvents, CreateLogGroup, CreateLogStream) and counts the PutLogEvents."""

    def __init__(self):
        self.puts = 0
        logs = self

        class Handler(QuietHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                logs.puts += self.headers.get("X-Amz-Target", "").endswith(".PutLogEvents")
                data = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = serve(Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]


def registry_request(action, model, bearer, context=None, log_group=True):
    """A resource-provider HandlerRequest as CloudFormation sends it."""
    data = {
        "callerCredentials": {"accessKeyId": "ASIACALLER", "secretAccessKey": "caller-secret", "sessionToken": "t"},
        "providerCredentials": {"accessKeyId": "ASIAPROVIDER", "secretAccessKey": "provider-secret",
                                "sessionToken": "t"},
        "logicalResourceId": "Copy",
        "resourceProperties": model,
        "typeConfiguration": {"AccessKeyId": KEY_ID, "AccessKeySecret": SECRET, "RegionId": DEST_REGION},
    }
    if log_group:
        data["providerLogGroupName"] = "tf-alicloud-imagecopy-logs"
    request = {"action": action, "awsAccountId": "123456789012", "bearerToken": bearer, "region": "us-east-1",
               "resourceType": "TF::Alicloud::ImageCopy",
               "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/bench/1", "requestData": data}
    if context is not None:
        request["callbackContext"] = context
    return request


def provider_invoke(runtime, request, timeout=60):
    """One HandlerRequest; returns (seconds event handed out → ProgressEvent returned, event)."""
    request_id = str(uuid.uuid4())
    runtime.events.put((request_id, request))
    path, body = runtime.responses.get(timeout=timeout)
    assert request_id in path, (path, request_id)
    return runtime.responded_at.pop(request_id) - runtime.handed_at.pop(request_id), json.loads(body)


def registry(binary, endpoint, rounds, log_level):
    """The warm registry handler, one process: per round, a CREATE with an invalid property
    (answered before any ECS call), a CREATE (CopyImage, answered IN_PROGRESS at once) and
    its first callback (one DescribeImages), with log shipping to a loopback CloudWatch Logs
    at `log_level`. Time = the event handed out by the Runtime API → its ProgressEvent back."""
    logs = CloudWatchLogs()
    function = Function("ecs-image-copy", [os.path.abspath(binary)])
    runtime = Runtime()
    env = dict(function_env(runtime, endpoint), RUST_LOG=log_level, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=logs.base)
    function.spawn(env)
    props = {k: v for k, v in load_event("cfn-tf-create.json")["ResourceProperties"].items() if k != "ServiceToken"}
    samples = {"invalid": [], "create": [], "callback": []}
    for i in range(rounds):
        took, event = provider_invoke(runtime, registry_request("CREATE", dict(props, SourceImageId=""),
                                                                "bench-invalid-%d" % i))
        if "status" not in event:
            # A binary without the resource-provider entry took it for a custom-resource event.
            function.stop(runtime)
            return {"missing": "this binary does not answer resource-provider requests: %s" % json.dumps(event)[:200]}
        assert event["status"] == "FAILED" and event["errorCode"] == "InvalidRequest", event
        samples["invalid"].append(took)
        bearer = "bench-create-%d" % i
        model = dict(props, ImageName="bench-registry-%d" % i)
        took, event = provider_invoke(runtime, registry_request("CREATE", model, bearer))
        assert event["status"] == "IN_PROGRESS", event
        samples["create"].append(took)
        took, event = provider_invoke(runtime, registry_request("CREATE", event["resourceModel"], bearer,
                                                                context=event["callbackContext"]))
        assert event["status"] in ("IN_PROGRESS", "SUCCESS"), event
        samples["callback"].append(took)
    function.stop(runtime)
    result = {kind: summary(s) for kind, s in samples.items()}
    result["all"] = summary([t for s in samples.values() for t in s])
    result["log_level"] = log_level
    result["put_log_events"] = logs.puts
    return result


def summary(samples):
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"n": len(samples), "median_ms": statistics.median(samples) * 1000, "p99_ms": p99 * 1000,
            "min_ms": ordered[0] * 1000, "max_ms": ordered[-1] * 1000}


def main():
    binary, out = sys.argv[1], sys.argv[2]
    smoke = "--smoke" in sys.argv
    if "--registry-only" in sys.argv:
        # Just the registry handler's per-invocation time (no baseline needed).
        emulator, endpoint = start_emulator(binary, 2, [])
        try:
            result = {level: registry(binary, endpoint, 5 if smoke else 300, level) for level in ("warn", "info")}
        finally:
            emulator.terminate()
            emulator.wait()
        print(json.dumps(result, indent=2))
        with open(out, "w") as fh:
            json.dump({"registry": result}, fh, indent=2)
        return
    if "--secret-only" in sys.argv:
        # Just what the credentials' secret adds to a cold start (no baseline needed).
        emulator, endpoint = start_emulator(binary, 2, [])
        try:
            result = cold_start_secret(binary, endpoint, 3 if smoke else 30)
        finally:
            emulator.terminate()
            emulator.wait()
        print(json.dumps(result, indent=2))
        with open(out, "w") as fh:
            json.dump({"cold_start_secret": result}, fh, indent=2)
        return
    cold_runs = 3 if smoke else 30
    overhead_pairs = 20 if smoke else 500
    baseline_pairs = 10 if smoke else 500
    python = os.path.join(ROOT, "benches", ".venv", "bin", "python")
    functions = [
        Function("ecs-image-copy", [os.path.abspath(binary)]),
        Function("baseline", [python, os.path.join(ROOT, "benches", "baseline", "bootstrap.py")]),
    ]
    receiver = Receiver()
    image_ids = ["m-uf6bench%08d" % i for i in range(2 * overhead_pairs)]
    emulator, endpoint = start_emulator(binary, 2, image_ids)
    results = {"smoke": smoke}
    try:
        # Interleaved so that both see the same machine state.
        cold = {f.name: [] for f in functions}
        for _ in range(cold_runs):
            for f in functions:
                cold[f.name] += cold_start(f, endpoint, 1)
        results["cold_start"] = {name: summary(s) for name, s in cold.items()}
        print("cold start:", {k: round(v["median_ms"], 2) for k, v in results["cold_start"].items()}, flush=True)
        results["cold_start_secret"] = cold_start_secret(binary, endpoint, cold_runs)
        print("cold start, AccessKey from Secrets Manager: +%.2f ms (median)" % results["cold_start_secret"]["added_median_ms"], flush=True)

        # The registry handler (resource-provider protocol), warm: RUST_LOG=warn (nothing to
        # ship for a good request) and info (every invocation ships its lines).
        # Its own emulator: the copies its CREATEs start would otherwise queue ahead of the
        # later steps' copies in the shared one.
        registry_emulator, registry_endpoint = start_emulator(binary, 2, [])
        try:
            results["registry"] = {level: registry(binary, registry_endpoint, 5 if smoke else 300, level)
                                   for level in ("warn", "info")}
        finally:
            registry_emulator.terminate()
            registry_emulator.wait()
        print("registry handler: %s" % {level: round(r["all"]["median_ms"], 3) if "all" in r else r["missing"]
                                        for level, r in results["registry"].items()}, flush=True)

        results["overhead"] = {}
        offset = 0
        for f, pairs in zip(functions, [overhead_pairs, baseline_pairs]):
            deletes, updates, rss = overhead(f, receiver, endpoint, image_ids[offset:offset + pairs])
            offset += pairs
            results["overhead"][f.name] = {"delete": summary(deletes), "noop_update": summary(updates),
                                           "all": summary(deletes + updates), "warm_rss_kib": rss}
            print("overhead %s: %s" % (f.name, {k: round(v["median_ms"], 3) for k, v in results["overhead"][f.name].items() if k != "warm_rss_kib"}), flush=True)

        # Several fresh processes each: the peak moves by a few hundred KiB with how the
        # kernel happens to map the binary's pages; the largest is reported.
        results["memory"] = {f.name: {"runs": []} for f in functions}
        for _ in range(1 if smoke else 5):
            for f in functions:
                rss, create_s, idle, end = lifecycle(f, receiver, endpoint)
                results["memory"][f.name]["runs"].append(
                    {"max_rss_kib": rss, "create_seconds_2s_copy": create_s, "idle": idle, "end": end})
                print("lifecycle %s: max RSS %.1f MiB, create of a 2 s copy answered in %.2f s" % (f.name, rss / 1024, create_s), flush=True)
        for f in functions:
            runs = results["memory"][f.name]["runs"]
            results["memory"][f.name]["max_rss_kib"] = max(r["max_rss_kib"] for r in runs)
            results["memory"][f.name]["create_seconds_2s_copy"] = statistics.median(r["create_seconds_2s_copy"] for r in runs)
    finally:
        for f in functions:
            if f.proc and f.proc.poll() is None:
                f.proc.kill()
                f.proc.wait()
        emulator.terminate()
        emulator.wait()
    with open(out, "w") as fh:
        json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
