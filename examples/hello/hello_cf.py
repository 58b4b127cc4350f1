"""The same hello world, Cloud Functions style: runs unchanged under functions-framework."""


def hello(request):
    body = request.get_json(silent=True) or {}
    name = request.args.get("name") or body.get("name") or "World"
    return {"message": f"Hello, {name}!"}
