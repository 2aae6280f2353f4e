// One whiteboard `join` from Node.js with socket.io-client, as the browser's room page does it:
// V8's JSON.parse of the replay instead of Python's json.loads. Used by
// bench/whiteboard_join.py --client node. Prints {"elapsed_ms", "items", "ok"} as JSON.
// usage: node bench/join_client.mjs URL TOKEN SESSION_ID [compact|contract]
import { io } from "socket.io-client";

const [url, token, sessionId, encoding = "compact"] = process.argv.slice(2);
const socket = io(`${url}/whiteboard`, { auth: { token }, transports: ["websocket"] });
socket.on("connect_error", (error) => {
  console.error(`connect failed: ${error.message}`);
  process.exit(1);
});
socket.on("connect", async () => {
  const payload = { session_id: Number(sessionId) };
  if (encoding !== "contract") payload.encoding = encoding;
  const started = performance.now();
  // The ack callback runs once the message is decoded: the replay is a JS array by then.
  const answer = await socket.timeout(120_000).emitWithAck("join", payload);
  const elapsed = performance.now() - started;
  console.log(JSON.stringify({ elapsed_ms: elapsed, items: answer.items?.length, ok: answer.ok }));
  socket.close();
});
