"""check_junit must fail whenever a required contract test did not pass: run by
scripts/contract-tests before it trusts check_junit's verdict (python -m unittest)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import check_junit  # noqa: E402


def report(cases):
    body = "".join(cases)
    return f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{body}</testsuite></testsuites>'


def passed(name):
    return f'<testcase classname="resource" name="{name}" time="0.1" />'


def skipped(name, message):
    return f'<testcase classname="resource" name="{name}"><skipped message="{message}"/></testcase>'


ALL_PASSED = [passed(n) for n in sorted(check_junit.REQUIRED)] + [
    skipped("contract_create_create", "No writable identifiers. Skipping test."),
    skipped("contract_create_taggable", "Resource is not taggable. Skipping test."),
]


class CheckJunit(unittest.TestCase):
    def verdict(self, cases):
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
            f.write(report(cases))
        try:
            return check_junit.main(f.name)
        finally:
            os.unlink(f.name)

    def test_everything_required_passed(self):
        self.assertEqual(self.verdict(ALL_PASSED), 0)

    def test_a_required_test_skipped(self):
        cases = [c for c in ALL_PASSED if "contract_update_list" not in c]
        cases.append(skipped("contract_update_list", "no list handler"))
        self.assertEqual(self.verdict(cases), 1)

    def test_a_required_test_missing(self):
        self.assertEqual(self.verdict([c for c in ALL_PASSED if "contract_delete_delete" not in c]), 1)

    def test_a_failure(self):
        cases = ALL_PASSED + ['<testcase name="contract_create_read"><failure message="x"/></testcase>']
        self.assertEqual(self.verdict(cases), 1)

    def test_an_error(self):
        cases = ALL_PASSED + ['<testcase name="contract_create_list"><error message="KeyError"/></testcase>']
        self.assertEqual(self.verdict(cases), 1)

    def test_an_unexplained_skip(self):
        self.assertEqual(self.verdict(ALL_PASSED + [skipped("contract_create_create", "other")]), 1)

    def test_no_report(self):
        self.assertEqual(check_junit.main("/nonexistent/junit.xml"), 1)


if __name__ == "__main__":
    unittest.main()
