"""What an instance is told to become (its SPEC): the function, its limits, and its environment:
Lambda's reserved variables plus the function's own, and for a Cloud Functions style function
the variables Cloud Run sets for functions."""

from __future__ import annotations

import hashlib
import secrets
import sys
import time
from typing import Any

from skylet import custom_runtimes, function_keys
from skylet.config import FunctionConfig, RuntimeSettings


def instance_spec(
    fn: FunctionConfig,
    settings: RuntimeSettings,
    *,
    provisioned: bool,
    marker: bytes,
    runtime_dir: str,
    snap_start: bool = False,
) -> dict[str, Any]:
    """The SPEC frame's meta for one new instance of ``fn`` (``snap_start``: restored from its
    template's snapshot, or that template's own init); ``marker`` ends each invocation's
    output (skylet.pool.channel.OutputReader); ``runtime_dir``: the prefix of the interpreter
    it runs on (``LAMBDA_RUNTIME_DIR``, its zygote's ``ZygoteClient.runtime_dir``)."""
    today = time.strftime("%Y/%m/%d", time.gmtime())
    log_stream = f"{today}/[{fn.version}]{secrets.token_hex(16)}"
    init_type = "provisioned-concurrency" if provisioned else "on-demand"
    if snap_start:
        init_type = "snap-start"
    limit_bytes = fn.memory_mb * 1024 * 1024
    spec: dict[str, Any] = {
        "function_name": fn.name,
        "function_version": fn.version,
        "handler": fn.handler,
        "style": fn.style,
        "code_dir": str(fn.code_dir),
        "extra_path": [*fn.extra_path, *layer_path(fn)],
        "memory_mb": fn.memory_mb,
        # A backstop against a runaway allocation between two memory polls; the real limit is
        # the polled resident size. Twice the limit plus 1 GiB leaves room for the address
        # space that thread stacks and allocator arenas reserve but never touch.
        "rlimit_data_bytes": 2 * limit_bytes + (1 << 30),
        "env": lambda_environment(
            fn, settings, log_stream=log_stream, init_type=init_type, runtime_dir=runtime_dir
        ),
        "zygote_cwd": "/",
        "output_marker": marker.decode("latin-1"),
    }
    kind = custom_runtimes.kind(fn.runtime)
    argv = custom_runtimes.bootstrap_argv(
        fn.runtime,
        fn.handler,
        fn.code_dir,
        settings.node,
        opt_dir=fn.opt_dir,
        python=sys.executable,
    )
    if argv:  # the instance executes this, and serves it the Runtime API
        spec["bootstrap"] = argv
        if fn.opt_dir is not None:  # its layers' extensions run, and Lambda's /opt/bootstrap
            spec["layers"] = True
            if kind == "provided":
                spec["bootstrap_fallback"] = "/opt/bootstrap"
        if kind == "nodejs" and settings.node is None:
            spec["bootstrap_error"] = f"The runtime {fn.runtime} {custom_runtimes.NODE_MISSING}"
    return spec


def lambda_environment(
    fn: FunctionConfig,
    settings: RuntimeSettings,
    *,
    log_stream: str,
    init_type: str,
    runtime_dir: str,
) -> dict[str, str]:
    """Variables as Lambda sets them; the function's own may not override the reserved ones.
    The credentials are the function's own (its role's, on Lambda): skylet.function_keys.
    ``LAMBDA_RUNTIME_DIR`` is ``runtime_dir``: where the function's own interpreter lives (its
    ``sys.prefix``), as Lambda's names its runtime's ``/var/runtime``."""
    own = function_keys.credentials_for(settings.function_secret, fn.name)
    env = dict(settings.base_environment)
    env.update(fn.environment)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.logging.group(fn.name),
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": init_type,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "AWS_ACCESS_KEY_ID": own.access_key_id,
            "AWS_SECRET_ACCESS_KEY": own.secret_access_key,
            "AWS_SESSION_TOKEN": own.session_token,
            "_HANDLER": fn.handler,
            "LAMBDA_TASK_ROOT": str(fn.code_dir),
            "LAMBDA_RUNTIME_DIR": runtime_dir,
            "TZ": ":UTC",
            "LANG": env.get("LANG", "en_US.UTF-8"),
            "PYTHONPATH": ":".join([str(fn.code_dir), *fn.extra_path, *layer_path(fn)]),
        }
    )
    if fn.logging.json:  # as Lambda sets them for a function whose log format is JSON
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env["AWS_LAMBDA_LOG_LEVEL"] = fn.logging.application_level
    if fn.style in ("http", "cloudevent"):
        env.update(cloud_run_environment(fn))
    if custom_runtimes.kind(fn.runtime) == "provided" and custom_runtimes.bootstrap_argv(
        fn.runtime, fn.handler, fn.code_dir, None
    ):
        del env["AWS_EXECUTION_ENV"]  # Lambda sets none for a custom runtime
    if settings.endpoint_url:
        env.setdefault("AWS_ENDPOINT_URL", settings.endpoint_url)
        env.setdefault("AWS_LAMBDA_RUNTIME_API", settings.endpoint_url.split("://", 1)[-1])
    return env


def layer_path(fn: FunctionConfig) -> list[str]:
    """Where Lambda's Python finds a layer's packages: ``/opt/python`` and its
    ``lib/pythonX.Y/site-packages``; without a sandbox's view, in the unpacked directory."""
    if fn.opt_dir is None:
        return []
    host = f"python{sys.version_info.major}.{sys.version_info.minor}"
    version = fn.runtime if fn.runtime.startswith("python") else host
    return [
        path
        for top in ("/opt", fn.opt_dir)
        for path in (f"{top}/python", f"{top}/python/lib/{version}/site-packages")
    ]


def cloud_run_environment(fn: FunctionConfig) -> dict[str, str]:
    """What Cloud Run sets for a function (its container contract and functions-framework's
    variables): the service, revision and configuration, and the target and signature type.
    The revision changes whenever the code does (each reload runs from a new snapshot)."""
    code = hashlib.sha256(f"{fn.code_dir}\0{fn.handler}".encode()).hexdigest()[:3]
    return {
        "K_SERVICE": fn.name,
        "K_CONFIGURATION": fn.name,
        "K_REVISION": f"{fn.name}-00001-{code}",
        "FUNCTION_TARGET": fn.handler.rsplit(".", 1)[-1],
        "FUNCTION_SIGNATURE_TYPE": fn.style,
    }
