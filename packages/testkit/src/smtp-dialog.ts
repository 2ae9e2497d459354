import { connect } from 'node:net';

/**
 * Speaks SMTP line by line, so that tests can send what no well-behaved client library would:
 * waits for the greeting, then sends each line and waits for its final reply line (`250 ...`,
 * not `250-...`). Resolves with those reply lines, the greeting left out; fewer of them when the
 * server closes the connection early.
 */
export async function smtpDialog(port: number, lines: string[], host = '127.0.0.1'): Promise<string[]> {
  const socket = connect({ port, host });
  const replies: string[] = [];
  let buffer = '';
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (data) => {
    buffer += data.toString();
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (/^\d{3} /.test(line)) {
        replies.push(line);
        wake?.();
      }
    }
  });
  socket.on('error', () => undefined); // surfaces as 'close' and missing replies
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const reply = () => new Promise<void>((resolve) => (wake = resolve));
  try {
    await reply();
    for (const line of lines) {
      if (closed) break;
      const next = reply();
      socket.write(`${line}\r\n`);
      await next;
    }
  } finally {
    socket.destroy();
  }
  return replies.slice(1);
}
