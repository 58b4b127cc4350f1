/* The smallest client of the Lambda Runtime API: one kept-alive connection, raw HTTP/1.1, no
 * library. Its row in bench/coldstart.py measures what the Runtime API itself adds, with
 * almost none of a client's own work. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 20];
static size_t have;

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void send_all(int fd, const char *data, size_t size) {
    while (size) {
        ssize_t n = write(fd, data, size);
        if (n <= 0) die("write");
        data += n;
        size -= (size_t)n;
    }
}

/* Read one response into buf; returns the header block's length (up to its blank line). */
static size_t read_response(int fd, size_t *body_at, size_t *body_len, char *request_id) {
    char *end;
    while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0) die("read");
        have += (size_t)n;
    }
    size_t head = (size_t)(end - buf) + 4;
    size_t length = 0;
    for (char *line = buf; line < end; line = strstr(line, "\r\n") + 2) {
        if (!strncasecmp(line, "Content-Length:", 15)) length = strtoul(line + 15, NULL, 10);
        if (request_id && !strncasecmp(line, "Lambda-Runtime-Aws-Request-Id:", 30)) {
            char *value = line + 30;
            while (*value == ' ') value++;
            size_t n = strcspn(value, "\r");
            memcpy(request_id, value, n);
            request_id[n] = 0;
        }
    }
    while (have < head + length) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0) die("read");
        have += (size_t)n;
    }
    *body_at = head;
    *body_len = length;
    return head;
}

static void consume(size_t size) {
    memmove(buf, buf + size, have - size);
    have -= size;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) die("AWS_LAMBDA_RUNTIME_API");
    char host[64];
    const char *colon = strchr(api, ':');
    if (!colon || (size_t)(colon - api) >= sizeof host) die("AWS_LAMBDA_RUNTIME_API");
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = 0;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    inet_pton(AF_INET, host, &address.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address)) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: r\r\n\r\n";
    static const char hello[] = "{\"statusCode\": 200, \"body\": \"Hello, World!\"}";
    char request_id[128], post[512];
    for (;;) {
        size_t at, length;
        send_all(fd, next, sizeof next - 1);
        read_response(fd, &at, &length, request_id);
        consume(at + length);
        int n = snprintf(post, sizeof post,
                         "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: r\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         request_id, sizeof hello - 1, hello);
        send_all(fd, post, (size_t)n);
        read_response(fd, &at, &length, NULL);
        consume(at + length);
    }
}
