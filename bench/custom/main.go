// A Runtime API client on Go's standard library: the smallest bootstrap, so its rows measure
// what the Runtime API costs.
package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	hello := []byte(`{"statusCode": 200, "body": "Hello, World!"}`)
	for {
		next, err := http.Get(api + "next")
		if err != nil {
			os.Exit(2)
		}
		io.Copy(io.Discard, next.Body)
		next.Body.Close()
		id := next.Header.Get("Lambda-Runtime-Aws-Request-Id")
		answer, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(hello))
		if err != nil {
			os.Exit(2)
		}
		io.Copy(io.Discard, answer.Body)
		answer.Body.Close()
	}
}
