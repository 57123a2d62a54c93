-- wrk script for the proxy benchmark: POST one JSON body, then report as one JSON line.
-- The body and the API key come from the environment (BENCH_BODY, BENCH_KEY), so one script
-- serves every server and request kind. No response() function: wrk would then hand every
-- body to Lua, and the load generator shares the machine with the server under test.

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH_RESULT {\"requests\": %.0f, \"duration_us\": %.0f, \"bytes\": %.0f, " ..
      "\"connect\": %.0f, \"read\": %.0f, \"write\": %.0f, \"status\": %.0f, " ..
      "\"timeout\": %.0f, \"p50_us\": %.0f, \"p90_us\": %.0f, \"p99_us\": %.0f, " ..
      "\"max_us\": %.0f, \"mean_us\": %.1f}\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
