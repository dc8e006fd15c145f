"""The baseline: the Lambda handler users write today for this job.

crhelper's envelope (CfnResource with create/update/delete decorators) around the official
Alibaba Cloud Python SDK (aliyun-python-sdk-core + aliyun-python-sdk-ecs), waiting inside the
invocation as the simple crhelper pattern does. Same work as ecs-image-copy for the
TF::Alicloud::ImageCopy flavour: CopyImage then DescribeImages until Available; in-place
Update with ModifyImageAttribute + TagResources; Delete with DescribeImages, DeleteImage and
DescribeImages until gone.

Two deviations, both in the baseline's favour and stated in BENCHMARKS.md:
- crhelper only speaks HTTPS to the ResponseURL; for the loopback receiver its connection
  class is swapped for plain HTTP (its TLS context is still built, as in production).
- crhelper sleeps 120 s before answering every Delete by default (to flush CloudWatch
  logs); it is set to 0 here.
"""

import json
import os
import time
from http.client import HTTPConnection

import crhelper.utils
from crhelper import CfnResource
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkecs.request.v20140526.CopyImageRequest import CopyImageRequest
from aliyunsdkecs.request.v20140526.DeleteImageRequest import DeleteImageRequest
from aliyunsdkecs.request.v20140526.DescribeImagesRequest import DescribeImagesRequest
from aliyunsdkecs.request.v20140526.ModifyImageAttributeRequest import ModifyImageAttributeRequest
from aliyunsdkecs.request.v20140526.TagResourcesRequest import TagResourcesRequest

crhelper.utils.HTTPSConnection = lambda host, context=None: HTTPConnection(host)

helper = CfnResource(json_logging=False, log_level="INFO", boto_level="CRITICAL", sleep_on_delete=0)

KEY_ID = os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"]
SECRET = os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
REGION = os.environ.get("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou")
ENDPOINT = os.environ.get("ALIBABA_CLOUD_ECS_ENDPOINT", "").replace("http://", "").rstrip("/")
POLL_SECONDS = float(os.environ.get("BASELINE_POLL_SECONDS", "2"))

_clients = {}


def client(region):
    if region not in _clients:
        _clients[region] = AcsClient(KEY_ID, SECRET, region)
    return _clients[region]


def send(region, request):
    if ENDPOINT:
        request.set_endpoint(ENDPOINT)
        request.set_protocol_type("http")
    request.set_accept_format("json")
    return json.loads(client(region).do_action_with_exception(request))


def describe(region, image_id):
    request = DescribeImagesRequest()
    request.set_ImageId(image_id)
    request.set_Status("Creating,Waiting,Available,CreateFailed,UnAvailable")
    request.set_ImageOwnerAlias("self")
    images = send(region, request)["Images"]["Image"]
    return images[0] if images else None


def tags_of(props):
    return [{"Key": t["MapKey"], "Value": t["MapValue"]} for t in props.get("Tags", [])]


@helper.create
def create(event, context):
    props = event["ResourceProperties"]
    request = CopyImageRequest()
    request.set_ImageId(props["SourceImageId"])
    request.set_DestinationRegionId(REGION)
    if "ImageName" in props:
        request.set_DestinationImageName(props["ImageName"])
    if "Description" in props:
        request.set_DestinationDescription(props["Description"])
    if props.get("Tags"):
        request.set_Tags(tags_of(props))
    source_client_region = props["SourceRegionId"]
    image_id = send(source_client_region, request)["ImageId"]
    while True:
        time.sleep(POLL_SECONDS)
        image = describe(REGION, image_id)
        if image and image["Status"] == "Available":
            break
        if not image or image["Status"] in ("CreateFailed", "UnAvailable"):
            raise RuntimeError("copy %s failed: %s" % (image_id, image and image["Status"]))
    helper.Data["ImageId"] = image_id
    return image_id


@helper.update
def update(event, context):
    new, old = event["ResourceProperties"], event["OldResourceProperties"]
    image_id = event["PhysicalResourceId"]
    if new == old:
        return image_id
    if new.get("ImageName") != old.get("ImageName") or new.get("Description") != old.get("Description"):
        request = ModifyImageAttributeRequest()
        request.set_ImageId(image_id)
        if "ImageName" in new:
            request.set_ImageName(new["ImageName"])
        if "Description" in new:
            request.set_Description(new["Description"])
        send(REGION, request)
    added = [t for t in tags_of(new) if t not in tags_of(old)]
    if added:
        request = TagResourcesRequest()
        request.set_ResourceType("image")
        request.set_ResourceIds([image_id])
        request.set_Tags(added)
        send(REGION, request)
    helper.Data["ImageId"] = image_id
    return image_id


@helper.delete
def delete(event, context):
    image_id = event["PhysicalResourceId"]
    if not image_id.startswith("m-") or not describe(REGION, image_id):
        return
    request = DeleteImageRequest()
    request.set_ImageId(image_id)
    try:
        send(REGION, request)
    except ServerException as e:
        if e.get_error_code() != "InvalidImageId.NotFound":
            raise
    while describe(REGION, image_id):
        time.sleep(1)


def handler(event, context):
    helper(event, context)
