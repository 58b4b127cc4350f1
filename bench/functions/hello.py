def handler(event, context):
    return {"statusCode": 200, "body": "Hello, World!"}


def plain(event, context):
    # HTTP API's shortcut: a result without statusCode is the body of a 200 JSON response.
    return {"message": "Hello, World!"}
