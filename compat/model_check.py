"""Every IAM and STS answer the suite receives holds only what the model defines for its
operation's output: a botocore hook walks the XML of each successful Query response against
the output shape (element names, list members, map entries) before botocore parses it, and
fails the call on any element the model does not have. botocore itself ignores unknown
elements, so without this a response could carry anything."""

import xml.etree.ElementTree as ET

QUERY_SERVICES = ("iam", "sts")


class UnmodeledElement(AssertionError):
    pass


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _walk(element, shape, path, found):
    kind = shape.type_name
    if kind == "structure":
        names = {member.serialization.get("name", name): member for name, member in shape.members.items()}
        for child in element:
            tag = _local(child.tag)
            member = names.get(tag)
            if member is None:
                found.append(f"{path}/{tag}")
            else:
                _walk(child, member, f"{path}/{tag}", found)
    elif kind == "list":
        item = shape.member.serialization.get("name", "member")
        for child in element:
            tag = _local(child.tag)
            if tag != item:
                found.append(f"{path}/{tag}")
            else:
                _walk(child, shape.member, f"{path}/{tag}", found)
    elif kind == "map":
        key = shape.key.serialization.get("name", "key")
        value = shape.value.serialization.get("name", "value")
        for entry in element:
            if _local(entry.tag) != "entry":
                found.append(f"{path}/{_local(entry.tag)}")
                continue
            for part in entry:
                tag = _local(part.tag)
                if tag == key:
                    _walk(part, shape.key, f"{path}/entry/{tag}", found)
                elif tag == value:
                    _walk(part, shape.value, f"{path}/entry/{tag}", found)
                else:
                    found.append(f"{path}/entry/{tag}")
    elif len(element):
        found.append(f"{path}/{_local(element[0].tag)} (inside a {kind})")


def unmodeled(operation_model, body):
    """The paths of the elements of a Query response `body` the model does not define."""
    root = ET.fromstring(body)
    found = []
    expected_root = f"{operation_model.name}Response"
    if _local(root.tag) != expected_root:
        return [f"/{_local(root.tag)} (expected {expected_root})"]
    output = operation_model.output_shape
    wrapper = operation_model.output_shape.serialization.get("resultWrapper") if output is not None else None
    wrapper = wrapper or f"{operation_model.name}Result"
    for child in root:
        tag = _local(child.tag)
        if tag == "ResponseMetadata":
            extra = [_local(c.tag) for c in child if _local(c.tag) != "RequestId"]
            found += [f"/{expected_root}/ResponseMetadata/{t}" for t in extra]
        elif tag == wrapper and output is not None:
            _walk(child, output, f"/{expected_root}/{tag}", found)
        else:
            found.append(f"/{expected_root}/{tag}")
    return found


def _check(operation_model, response_dict, **_):
    if response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body") or b""
    if not body:
        return
    found = unmodeled(operation_model, body)
    if found:
        raise UnmodeledElement(f"{operation_model.name}: elements the model does not define: {found}")


def watch(client):
    """Checks every answer of `client` (an IAM or STS client) against its model."""
    service = client.meta.service_model.service_name
    if service in QUERY_SERVICES:
        client.meta.events.register(f"before-parse.{service}", _check)
    return client
