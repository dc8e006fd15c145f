"""`cfn test` without an AWS account: the same CLI, with the one call that cannot be
pointed at loopback (sts:GetCallerIdentity at a fixed URL, to learn the account id)
answered locally. Everything else `cfn test` does is unchanged.

    python launcher.py test --endpoint http://127.0.0.1:PORT ... -- PYTEST_ARGS
"""

import sys

from rpdk.core import cli
from rpdk.core.contract import resource_client

FAKE_ACCOUNT = "123456789012"


def fake_account(*_args, **_kwargs):
    return FAKE_ACCOUNT


resource_client.get_account = fake_account

if __name__ == "__main__":
    sys.argv[0] = "cfn"
    sys.exit(cli.main())
