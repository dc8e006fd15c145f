#!/usr/bin/env python3
"""Writes the hostile-event corpus: cases/NNN-name.json plus index.json with what each must
produce. Run from anywhere: `python3 tests/hostile/generate.py`. Deterministic; commit both.

`RECEIVER` in a file is replaced by the test with its loopback receiver's host:port.
index.json maps each file to {"answer": "FAILED" | "SUCCESS" | "none", "expect": [substrings]}:
"FAILED" means exactly one FAILED answer whose Reason contains every substring; "SUCCESS" one
SUCCESS answer (a Delete of nothing this handler made); "none" means the event cannot be
answered (no usable ResponseURL) and the handler's error contains them.
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
URL = "http://RECEIVER/cb?X-Amz-Signature=SIGNATURE-canary-9d8c7b"

TF = {"SourceImageId": "m-source0000000001", "SourceRegionId": "cn-hangzhou",
      "ImageName": "web-server"}
ROS = {"ImageId": "m-source0000000001", "SourceRegionId": "cn-hangzhou",
       "DestinationRegionId": "cn-shanghai", "DestinationImageName": "web-server"}

cases = []  # (name, raw bytes or object, answer, expect)


def cfn(request_type="Create", ty="Custom::ImageCopy", props=None, **extra):
    event = {"RequestType": request_type,
             "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:copy",
             "ResponseURL": URL,
             "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/h/guid",
             "RequestId": "req-1", "ResourceType": ty, "LogicalResourceId": "Copy",
             "ResourceProperties": dict(TF if props is None else props)}
    if request_type != "Create":
        event["PhysicalResourceId"] = "m-copy00000001"
    if request_type == "Update":
        event["OldResourceProperties"] = dict(event["ResourceProperties"])
    event.update(extra)
    return event


def ros(request_type="Create", ty="ALIYUN::ECS::CopyImage", props=None, **extra):
    event = cfn(request_type, ty, ROS if props is None else props, **extra)
    del event["ServiceToken"]
    event.update({"StackName": "h", "RegionId": "cn-hangzhou", "ResourceOwnerId": "1",
                  "CallerId": "1", "IntranetResponseURL": URL})
    event.update(extra)
    return event


def add(name, event, answer, *expect):
    cases.append((name, event, answer, list(expect)))


# --- Not JSON, or not an object: nobody can be answered.
bad_json = {
    "empty": b"", "spaces": b"   \n\t ", "truncated": b'{"RequestType": "Create", "Respon',
    "trailing-comma": b'{"RequestType": "Create",}', "single-quotes": b"{'RequestType': 'Create'}",
    "nan": b'{"x": NaN}', "infinity": b'{"x": Infinity}', "comment": b'{/* c */ "a": 1}',
    "bare-word": b"Create", "binary": bytes(range(256)), "bom": b"\xef\xbb\xbf{}",
    "invalid-utf8": b'{"ResponseURL": "\xff\xfe"}', "lone-surrogate": b'{"a": "\\ud800"}',
    "unclosed-string": b'{"a": "b', "two-objects": b"{}{}", "deep-arrays": b"[" * 20000,
    "deep-objects": b'{"a":' * 20000, "nul-byte": b'{"a": "b"}\x00',
    "hex-number": b'{"a": 0x10}', "leading-zero": b'{"a": 01}', "control-in-string": b'{"a": "\x01"}',
    "bad-escape": b'{"a": "\\q"}', "unquoted-key": b"{RequestType: 1}", "colon-missing": b'{"a" 1}',
}
for name, raw in bad_json.items():
    add(f"json-{name}", raw, "none", "")
for name, value in {"array": [], "string": "Create", "number": 42, "null": None, "true": True,
                    "array-of-event": [cfn()]}.items():
    add(f"not-object-{name}", json.dumps(value).encode(), "none", "must be a JSON object")

# --- No usable ResponseURL.
url_cases = {"missing": None, "null": "null", "empty": "", "number": 12, "ftp": "ftp://h/x",
             "no-scheme": "RECEIVER/cb", "no-host": "http:///cb", "query-host": "http://?x",
             "javascript": "javascript:alert(1)", "space": "http://RECEIVER/a b",
             "newline": "http://RECEIVER/a\nb", "tab": "http://RECEIVER/\tb",
             "file": "file:///etc/passwd", "object": {"url": URL}, "array": [URL],
             "bool": True, "relative": "/cb", "mailto": "mailto:x@y", "scheme-only": "https://",
             "unicode-space": "http://RECEIVER/\u2003"}
for name, value in url_cases.items():
    for envelope, make in (("cfn", cfn), ("ros", ros)):
        event = make()
        if value is None:
            del event["ResponseURL"]
            event.pop("IntranetResponseURL", None)
        elif value == "null":
            event["ResponseURL"] = None
            event.pop("IntranetResponseURL", None)
        else:
            event["ResponseURL"] = value
            event.pop("IntranetResponseURL", None)
        add(f"url-{name}-{envelope}", event, "none", "ResponseURL")

# --- Envelope fields: a usable URL, so a FAILED answer naming the field.
wrong_values = {"null": None, "number": 7, "bool": False, "array": ["x"], "object": {"a": 1},
                "empty": ""}
for field in ["RequestType", "StackId", "RequestId", "LogicalResourceId", "ResourceType"]:
    for vname, value in wrong_values.items():
        for envelope, make in (("cfn", cfn), ("ros", ros)):
            event = make()
            event[field] = value
            if field in ("StackId", "RequestId", "LogicalResourceId") and vname == "number":
                continue  # read leniently as text for the answer; then refused as a number
            add(f"field-{field}-{vname}-{envelope}", event, "FAILED", field)
    event = cfn()
    del event[field]
    add(f"field-{field}-missing", event, "FAILED", field, "is required")
for value in ["Destroy", "create", "CREATE", "Update ", "Créer", "x" * 10000, "Delete\u0000"]:
    for envelope, make in (("cfn", cfn), ("ros", ros)):
        event = make()
        event["RequestType"] = value
        add(f"request-type-unknown-{len(cases)}-{envelope}", event, "FAILED", "RequestType",
            "must be Create, Update or Delete")
for rt in ["Update", "Delete"]:
    # A Delete naming no image this handler can have made succeeds without a call, however
    # broken the rest is: a rollback must never fail on it.
    answer = "SUCCESS" if rt == "Delete" else "FAILED"
    for envelope, make in (("cfn", cfn), ("ros", ros)):
        event = make(rt)
        del event["PhysicalResourceId"]
        add(f"physical-missing-{rt}-{envelope}", event, answer,
            *(["PhysicalResourceId", f"is required for {rt}"] if answer == "FAILED" else []))
        event = make(rt)
        event["PhysicalResourceId"] = ["m-x"]
        add(f"physical-array-{rt}-{envelope}", event, answer,
            *(["PhysicalResourceId", "must be a string"] if answer == "FAILED" else []))
for field in ["ResourceProperties", "OldResourceProperties"]:
    for vname, value in {"array": [1], "string": "{}", "number": 1, "bool": True}.items():
        event = cfn("Update")
        event[field] = value
        add(f"{field}-{vname}", event, "FAILED", field, "must be an object")
for field, value in {"RegionId": 5, "StackName": {"a": 1}}.items():
    event = ros()
    event[field] = value
    add(f"ros-{field}-wrong-type", event, "FAILED", field, "must be a string")

# --- Resource types nobody handles, and generic types whose properties say nothing.
for i, ty in enumerate(["AWS::S3::Bucket", "ALIYUN::ECS::Instance", "custom::imagecopy",
                        "Custom", "::", "TF::Alicloud::ImageCopy2", "镜像::复制",
                        "A" * 5000, "Custom\u0000::X", "AWS::CloudFormation::Stack"]):
    add(f"type-unknown-{i}", cfn(ty=ty), "FAILED", "is not handled by this function")
for i, props in enumerate([{}, {"Foo": "bar"}, {"ImageId": "m-abcdef"},
                           {"SourceImageId": "m-abcdef"}, {"DestinationRegionId": "cn-beijing"},
                           {"Parameters": {"Foo": 1}}, {"Parameters": []}]):
    for ty in ["Custom::Thing", "AWS::CloudFormation::CustomResource",
               "ALIYUN::ROS::CustomResource"]:
        add(f"type-generic-neither-{i}-{ty.split(':')[0]}", cfn(ty=ty, props=props), "FAILED",
            "identify neither")

# --- Every property rule, broken once per flavour (and envelope where it matters).
def prop_case(name, flavour, key, value, *expect, remove=None):
    base = dict(TF if flavour == "tf" else ROS)
    if remove:
        del base[remove]
    else:
        base[key] = value
    ty = "TF::Alicloud::ImageCopy" if flavour == "tf" else "ALIYUN::ECS::CopyImage"
    for envelope, make in (("cfn", cfn), ("ros", ros)):
        add(f"prop-{flavour}-{name}-{envelope}", make(ty=ty, props=base), "FAILED",
            "Invalid properties", *expect)


names = {"tf": ["ImageName", "Name"], "ros": ["DestinationImageName"]}
for flavour, keys in names.items():
    for key in keys:
        prop_case(f"{key}-short", flavour, key, "a", key, "must be 2 to 128 characters")
        prop_case(f"{key}-long", flavour, key, "a" * 129, key, "must be 2 to 128 characters")
        prop_case(f"{key}-huge", flavour, key, "a" * 20000, key, "must be 2 to 128 characters")
        prop_case(f"{key}-digit", flavour, key, "1abc", key, "must start with a letter")
        prop_case(f"{key}-space", flavour, key, "ab cd", key, "contain only letters")
        prop_case(f"{key}-emoji", flavour, key, "ab😀", key, "contain only letters")
        prop_case(f"{key}-aliyun", flavour, key, "aliyun-x", key, "must not start with")
        prop_case(f"{key}-acs", flavour, key, "acs:x", key, "must not start with")
        prop_case(f"{key}-number", flavour, key, 12, key, "must be a string")
        prop_case(f"{key}-null", flavour, key, None, key, "must be a string, got null")
desc = {"tf": "Description", "ros": "DestinationDescription"}
for flavour, key in desc.items():
    prop_case(f"{key}-short", flavour, key, "a", key, "must be 2 to 256 characters")
    prop_case(f"{key}-long", flavour, key, "é" * 257, key, "must be 2 to 256 characters")
    prop_case(f"{key}-link", flavour, key, "http://x", key, "must not start with \"http://\"")
    prop_case(f"{key}-slink", flavour, key, "https://x", key, "must not start with \"https://\"")
    prop_case(f"{key}-object", flavour, key, {"a": "b"}, key, "must be a string")
image = {"tf": "SourceImageId", "ros": "ImageId"}
for flavour, key in image.items():
    for i, bad in enumerate(["ubuntu", "m-", "m-ABCDEF", "m-abc", "m-" + "a" * 63, "m-ab cdef",
                             " m-abcdef", "m-abcdef\n"]):
        prop_case(f"{key}-bad-{i}", flavour, key, bad, key, "must be an image id")
    prop_case(f"{key}-missing", flavour, key, None, key, "is required", remove=key)
for flavour in ["tf", "ros"]:
    for i, bad in enumerate(["hangzhou", "CN-HANGZHOU", "cn_hangzhou", "cn-", "c-x", ""]):
        prop_case(f"SourceRegionId-bad-{i}", flavour, "SourceRegionId", bad, "SourceRegionId",
                  "must be a region id")
for i, bad in enumerate(["beijing", "cn-beijing-", "x" * 70]):
    prop_case(f"DestinationRegionId-bad-{i}", "ros", "DestinationRegionId", bad,
              "DestinationRegionId")
prop_case("same-region", "ros", "DestinationRegionId", "cn-hangzhou", "DestinationRegionId",
          "must differ from the source region")
prop_case("rg-bad", "ros", "ResourceGroupId", "group-1", "ResourceGroupId",
          "must be a resource group id")
for flavour, key in (("tf", "KmsKeyId"), ("ros", "KMSKeyId")):
    prop_case(f"{key}-without-encryption", flavour, key, "key-1", key)
    prop_case(f"{key}-empty", flavour, key, "", key)
for flavour in ["tf", "ros"]:
    prop_case("encrypted-string", flavour, "Encrypted", "maybe", "Encrypted")
    prop_case("unknown-prop", flavour, "Colour", "blue", "Colour", "is not a known property")
prop_case("tag-count", "ros", "Tag", [{"Key": f"k{i}", "Value": "v"} for i in range(21)],
          "Tag: must have at most 20 items, got 21")
prop_case("tag-dup", "ros", "Tag", [{"Key": "k"}, {"Key": "k"}], "Tag[1].Key: duplicates")
prop_case("tag-key-acs", "ros", "Tag", [{"Key": "acs:x"}], "Tag[0].Key: must not start with")
prop_case("tag-not-list", "ros", "Tag", {"Key": "k"}, "Tag: must be a list")
prop_case("tag-key-missing", "ros", "Tag", [{"Value": "v"}], "Tag[0].Key: is required")
prop_case("tag-extra", "ros", "Tag", [{"Key": "k", "Colour": 1}], "Tag[0].Colour")
prop_case("tags-count", "tf", "Tags", [{"MapKey": f"k{i}", "MapValue": "v"} for i in range(21)],
          "Tags: must have at most 20 items")
prop_case("tags-value-missing", "tf", "Tags", [{"MapKey": "k"}], "Tags[0].MapValue: is required")
prop_case("tags-key-link", "tf", "Tags", [{"MapKey": "https://x", "MapValue": "v"}],
          "Tags[0].MapKey: must not contain \"https://\"")
prop_case("tags-dup", "tf", "Tags", [{"MapKey": "k", "MapValue": "a"},
                                     {"MapKey": "k", "MapValue": "b"}], "Tags[1].MapKey: duplicates")
prop_case("tags-wrong-shape", "tf", "Tags", [{"Key": "k", "Value": "v"}], "Tags[0].Key")
for i, bad in enumerate(["10", "10d", "-5m", "1h30", "soon", "1.5.5m"]):
    prop_case(f"timeout-create-{i}", "tf", "Timeouts", {"Create": bad}, "Timeouts.Create",
              "must be a duration")
prop_case("timeout-delete", "tf", "Timeouts", {"Delete": "forever"}, "Timeouts.Delete")
prop_case("timeout-extra", "tf", "Timeouts", {"Update": "1m"}, "Timeouts.Update")
for key in ["Id", "ImageId", "tfcfnid"]:
    prop_case(f"output-as-input-{key}", "tf", key, "m-abcdef1", key)
for flavour in ["tf", "ros"]:
    prop_case("force-string", flavour, "Force" if flavour == "tf" else "AllowCopyInSameRegion",
              "yes please", "Force" if flavour == "tf" else "AllowCopyInSameRegion")

# --- Unicode, nesting and size in the other fields: still parsed, still refused.
nested = {"a": {"b": [{"c": [[[[[{"d": None}]]]]]}]}}
add("props-nested-garbage", cfn(props=dict(TF, Extra=nested)), "FAILED", "Extra")
# A huge key is shown clipped in the violation path, so the rule still fits in the answer.
add("props-huge-key", cfn(props=dict(TF, **{"K" * 20000: 1})), "FAILED", "Invalid properties",
    "KKKKKKKK", "is not a known property")
add("props-unicode-key", cfn(props=dict(TF, **{"名前": "x"})), "FAILED", "名前")
add("props-rtl-key", cfn(props=dict(TF, **{"\u202eevil": "x"})), "FAILED", "is not a known property")
add("parameters-nested-bad", cfn(ty="ALIYUN::ROS::CustomResource",
                                 props={"ServiceToken": "x", "Parameters": dict(ROS, ImageId="bad")}),
    "FAILED", "ImageId", "must be an image id")
for envelope, make in (("cfn", cfn), ("ros", ros)):
    add(f"update-old-missing-{envelope}", {k: v for k, v in make("Update").items()
                                           if k != "OldResourceProperties"},
        "FAILED", "OldResourceProperties")

# --- The engines' own keys: limits out of range or unreadable are refused by name.
for i, bad in enumerate([0, 3601, "1h", 1.5, True, "", " 60", -1]):
    add(f"service-timeout-bad-{i}", cfn(props=dict(TF, ServiceTimeout=bad)), "FAILED",
        "ServiceTimeout", "whole number of seconds from 1 to 3600")
for i, bad in enumerate([0, 43201, "sixty", [60]]):
    add(f"ros-timeout-bad-flat-{i}", ros(props=dict(ROS, Timeout=bad)), "FAILED",
        "Timeout", "whole number of seconds from 1 to 43200")
    add(f"ros-timeout-bad-nested-{i}",
        ros(ty="ALIYUN::ROS::CustomResource",
            props={"ServiceToken": "acs:fc:cn-hangzhou:1:functions/f", "Timeout": bad,
                   "Parameters": dict(ROS)}),
        "FAILED", "Timeout", "whole number of seconds from 1 to 43200")

# --- Rollbacks: a Delete naming no image this handler can have made succeeds without a
# call, whatever else it holds.
foreign_ids = {"marker": "ecs-image-copy:create-failed",
               "log-stream": "2026/11/23/[$LATEST]ab12cd34ef56",
               "uuid": "c3a9e0f2-1b7d-4e8a-9f00-2b1c3d4e5f60", "empty": "",
               "oversized": "m-" + "a" * 300, "qualified-bad-region": "CN/m-abcdef1"}
foreign_props = {"empty": {}, "typo": dict(TF, SourceImageID="m-x"), "garbage": {"a": [1, {"b": None}]},
                 "bad-timeout": dict(TF, ServiceTimeout="never")}
for id_name, physical in foreign_ids.items():
    for props_name, props in foreign_props.items():
        for envelope, make in (("cfn", cfn), ("ros", ros)):
            add(f"rollback-{id_name}-{props_name}-{envelope}",
                make("Delete", props=props, PhysicalResourceId=physical), "SUCCESS")
for ty in ["AWS::S3::Bucket", "Custom::Unrelated"]:
    add(f"rollback-marker-type-{ty.replace(':', '')}",
        cfn("Delete", ty=ty, props={}, PhysicalResourceId="ecs-image-copy:create-failed"),
        "SUCCESS")
add("rollback-marker-props-not-object",
    cfn("Delete", PhysicalResourceId="ecs-image-copy:create-failed", ResourceProperties=[1]),
    "SUCCESS")
# A real image id, but of a type this function never creates anything for: nothing of ours.
add("delete-real-id-foreign-type", cfn("Delete", ty="AWS::S3::Bucket", props={}), "SUCCESS")
# A real image id whose properties do not say where it is: the one Delete that must fail.
add("delete-real-id-no-region", cfn("Delete", props={}), "FAILED",
    "identify neither", "cannot be told")

shutil.rmtree(CASES, ignore_errors=True)
os.makedirs(CASES)
index = {}
for n, (name, event, answer, expect) in enumerate(cases):
    file = f"{n:03d}-{name[:60]}.json"
    raw = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
    with open(os.path.join(CASES, file), "wb") as f:
        f.write(raw)
    index[file] = {"answer": answer, "expect": [e for e in expect if e]}
with open(os.path.join(HERE, "index.json"), "w") as f:
    json.dump(index, f, indent=1, ensure_ascii=False, sort_keys=True)
    f.write("\n")
print(f"{len(cases)} cases")
