# The same hello world for Google's functions-framework, the peer in bench/coldstart.py.
import functions_framework


@functions_framework.http
def hello(request):
    return "Hello, World!"
