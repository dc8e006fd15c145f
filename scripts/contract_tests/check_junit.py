"""Reads the JUnit report of `cfn test` and fails unless every contract test that this type's
schema makes applicable ran and passed.

    python check_junit.py JUNIT_XML

Exit 0: no failure, no error, each of REQUIRED executed (not skipped), and nothing skipped
but the tests in ALLOWED_SKIPS (the schema explains those). Anything else exits 1 and says
which test and why, so a suite that quietly skipped its way to green cannot pass.
"""

import sys
import xml.etree.ElementTree as ET

# The create, read, update, delete and list contract tests of cloudformation-cli 0.2.41.
REQUIRED = {
    "contract_create_delete",
    "contract_create_read",
    "contract_create_list",
    "contract_update_read",
    "contract_update_list",
    "contract_update_without_create",
    "contract_delete_read",
    "contract_delete_list",
    "contract_delete_update",
    "contract_delete_delete",
}

# tfcfnid, the primary identifier, is read-only (a template cannot choose it), so a second
# create with the same identifier cannot be expressed; the type is not taggable.
ALLOWED_SKIPS = {
    "contract_create_create": "No writable identifiers",
    "contract_delete_create": "No writable identifiers",
    "contract_create_taggable": "not taggable",
    "contract_update_tag_updatable": "tag",
}


def main(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"FAIL no JUnit report at {path}: {e}")
        return 1
    problems = []
    executed = set()
    seen = set()
    for case in root.iter("testcase"):
        name = case.get("name", "").split("[")[0]
        seen.add(name)
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            message = (failure.get("message") or failure.text or "").strip().splitlines()
            problems.append(f"{name} failed: {message[0] if message else '?'}")
        elif skipped is not None:
            reason = skipped.get("message") or skipped.text or ""
            allowed = ALLOWED_SKIPS.get(name)
            if allowed is None or allowed.lower() not in reason.lower():
                problems.append(f"{name} was skipped: {reason.strip()}")
        else:
            executed.add(name)
    for name in sorted(REQUIRED - executed):
        if name not in seen:
            problems.append(f"{name} did not run at all")
        elif not any(p.startswith(name + " ") for p in problems):
            problems.append(f"{name} did not execute")
    print(f"contract tests executed: {len(executed)}; passed and required: "
          f"{len(REQUIRED & executed)}/{len(REQUIRED)}")
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
