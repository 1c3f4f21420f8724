/**
 * The runtime ↔ trampoline protocol, over one stream socketpair (fd 3 in the
 * trampoline and in the container's init until execve; close-on-exec).
 *
 *   runtime                         trampoline T                 init C
 *      |  Bun.spawn(memfd, fd3=sock, fd4=plan)
 *      |                              | clone3(namespaces) ------> |
 *      | <------ PID(host pid of C) --|                            |
 *      |                              | close(sock), wait(C)       |
 *      | <------------------------------------------- READY(kind) | (user ns, hooks, console, created)
 *      | -- GO [payload] -------------------------------------------> |
 *      | <------------------------------------------- ERROR(step, errno) then exit
 *      | <------------------------------------------- EOF: execve succeeded
 *
 * All messages are 16 bytes: {u32 type, u32 step, i32 value, i32 extra}.
 * ERROR.extra: 1 = execve failed (value = errno), 2|(status<<8) = a hook failed.
 */
export const Msg = { PID: 1, READY: 2, ERROR: 3, GO: 4 } as const;
export const MSG_SIZE = 16;

export type Message = { type: number; step: number; value: number; extra: number };

export function decode(b: Uint8Array): Message {
  const dv = new DataView(b.buffer, b.byteOffset, MSG_SIZE);
  return { type: dv.getUint32(0, true), step: dv.getUint32(4, true), value: dv.getInt32(8, true), extra: dv.getInt32(12, true) };
}

export function encodeGo(payloadLength = 0): Uint8Array {
  const b = new Uint8Array(MSG_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, Msg.GO, true);
  dv.setInt32(8, payloadLength, true);
  return b;
}
