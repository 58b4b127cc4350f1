// skylet's own Node.js client of the Lambda Runtime API, for nodejs20.x / nodejs22.x functions
// whose code does not bring AWS's (aws-lambda-ric). Usage: node bootstrap.mjs module.function
// Loads the handler from LAMBDA_TASK_ROOT, then loops: GET next, run, POST response or error.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = "/2018-06-01/runtime";
let requestId = "";

function call(method, route, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path: BASE + route, agent, headers },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// Lambda's console format: time, request id, level, message.
for (const [name, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"], ["debug", "DEBUG"]]) {
  console[name] = (...args) => {
    const line = `${new Date().toISOString()}\t${requestId || "undefined"}\t${level}\t${format(...args)}\n`;
    fs.writeSync(level === "INFO" || level === "DEBUG" ? 1 : 2, line.replace(/\n(?!$)/g, "\r"));
  };
}

function errorDocument(err, type) {
  const error = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: type || error.name || "Error",
    errorMessage: error.message,
    trace: String(error.stack || "").split("\n"),
  };
}

async function load(handler) {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const dot = handler.lastIndexOf(".");
  if (dot <= 0) {
    throw Object.assign(new Error(`Bad handler ${handler}`), { lambdaType: "Runtime.MalformedHandlerName" });
  }
  const [modulePath, name] = [handler.slice(0, dot), handler.slice(dot + 1)];
  const base = path.resolve(root, modulePath);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${modulePath}'`), { lambdaType: "Runtime.ImportModuleError" });
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    throw Object.assign(err, { lambdaType: err instanceof SyntaxError ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError" });
  }
  const fn = mod[name] ?? mod.default?.[name];
  if (typeof fn !== "function") {
    throw Object.assign(new Error(`${handler} is undefined or not exported`), { lambdaType: "Runtime.HandlerNotFound" });
  }
  return fn;
}

function invoke(fn, event, context) {
  if (fn.length >= 3) {
    return new Promise((resolve, reject) => {
      const done = (err, result) => (err ? reject(err) : resolve(result));
      context.done = done;
      context.succeed = (result) => resolve(result);
      context.fail = (err) => reject(err);
      const returned = fn(event, context, done);
      if (returned && typeof returned.then === "function") returned.then(resolve, reject);
    });
  }
  return Promise.resolve().then(() => fn(event, context));
}

async function main() {
  let fn;
  try {
    fn = await load(process.argv[2] || process.env._HANDLER);
  } catch (err) {
    const type = err.lambdaType || "Runtime.ImportModuleError";
    const document = errorDocument(err, type);
    console.error(`${type}: ${document.errorMessage}`);
    await call("POST", "/init/error", JSON.stringify(document), {
      "Content-Type": "application/json",
      "Lambda-Runtime-Function-Error-Type": type,
    });
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const headers = next.headers;
    requestId = headers["lambda-runtime-aws-request-id"];
    const deadline = Number(headers["lambda-runtime-deadline-ms"]);
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      identity: headers["lambda-runtime-cognito-identity"] ? JSON.parse(headers["lambda-runtime-cognito-identity"]) : undefined,
      clientContext: headers["lambda-runtime-client-context"] ? JSON.parse(headers["lambda-runtime-client-context"]) : undefined,
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    };
    process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"] || "";
    let outcome;
    try {
      const event = JSON.parse(next.body.toString("utf8") || "{}");
      const result = await invoke(fn, event, context);
      outcome = ["response", result === undefined ? "null" : JSON.stringify(result), {}];
    } catch (err) {
      const document = errorDocument(err);
      console.error(`Invoke Error \t${JSON.stringify(document)}`);
      outcome = ["error", JSON.stringify(document), { "Lambda-Runtime-Function-Error-Type": document.errorType }];
    }
    const [what, body, extra] = outcome;
    await call("POST", `/invocation/${requestId}/${what}`, body, { "Content-Type": "application/json", ...extra });
  }
}

main();
