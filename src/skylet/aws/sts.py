"""STS, as far as SDKs and tools need it: ``GetCallerIdentity``, which the AWS CLI, Terraform
and many SDK helpers call first to learn the account. A ``Service``: the query codec reads and
writes the wire from botocore's model."""

from __future__ import annotations

from skylet import arns
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service


class SecurityTokens(Service):
    """Who signed the request: the account, the caller's ARN and its unique id (``arns.caller``:
    the local pair is the account's root, a configured key an IAM user of its name; a
    function's own credentials its role's session, ``arns.assumed_role``)."""

    service_name = "sts"

    def get_caller_identity(self, request: Params, context: RequestContext) -> Params:
        if context.function:
            who = arns.assumed_role(context.function, account=context.account_id)
        else:
            who = arns.caller(context.access_key, account=context.account_id)
        return {"UserId": who.user_id, "Account": who.account, "Arn": who.arn}
