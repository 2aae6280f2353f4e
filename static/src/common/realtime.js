// Socket.IO connection shared by the realtime features (whiteboard, presence).
import { io } from "socket.io-client";

/** Connect to a namespace of this site with the browser's session cookie. */
export function connect(namespace, options = {}) {
  return io(namespace, {
    transports: ["websocket", "polling"],
    withCredentials: true,
    ...options,
  });
}
