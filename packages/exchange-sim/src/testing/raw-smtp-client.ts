import { connect, type Socket } from 'node:net';

/** One SMTP reply: its code, the text of its last line and every line as received. */
export interface SmtpReply {
  code: number;
  text: string;
  lines: string[];
}

/**
 * A byte-level SMTP client for tests: it sends exactly what it is told and reports every
 * reply verbatim, so tests can check reply texts and when they arrive.
 */
export class RawSmtpClient {
  readonly #socket: Socket;
  #buffer = '';
  #lines: string[] = [];
  #replies: SmtpReply[] = [];
  #waiters: ((reply: SmtpReply | Error) => void)[] = [];
  #open = true;
  readonly closed: Promise<void>;
  greeting!: SmtpReply;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#open = false;
        for (const waiter of this.#waiters.splice(0)) waiter(new Error('connection closed'));
        resolve();
      }),
    );
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawSmtpClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtpClient(socket);
    client.greeting = await client.readReply();
    return client;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Sends one command line and waits for its reply. */
  async command(line: string): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.readReply();
  }

  write(data: string): void {
    this.#socket.write(data);
  }

  readReply(): Promise<SmtpReply> {
    const ready = this.#replies.shift();
    if (ready) return Promise.resolve(ready);
    if (!this.#open) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) =>
      this.#waiters.push((reply) => (reply instanceof Error ? reject(reply) : resolve(reply))),
    );
  }

  /** EHLO + AUTH PLAIN; returns the AUTH reply. */
  async login(user: string, password: string): Promise<SmtpReply> {
    await this.command('EHLO client.test');
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`);
  }

  /** MAIL, RCPT, DATA: returns the 354 (or the first failing reply). Then call `endData`. */
  async beginMessage(from: string, to: string[]): Promise<SmtpReply> {
    const mail = await this.command(`MAIL FROM:<${from}>`);
    if (mail.code !== 250) return mail;
    for (const rcpt of to) {
      const reply = await this.command(`RCPT TO:<${rcpt}>`);
      if (reply.code !== 250) return reply;
    }
    return this.command('DATA');
  }

  /** Sends the message body (dot-stuffed) and the final "." ; returns the reply to the end of DATA. */
  endData(message: string): Promise<SmtpReply> {
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    return this.readReply();
  }

  /** A whole transaction; returns the reply to the end of DATA (or the first failing reply). */
  async sendMessage(from: string, to: string[], message: string): Promise<SmtpReply> {
    const data = await this.beginMessage(from, to);
    return data.code === 354 ? this.endData(message) : data;
  }

  async quit(): Promise<SmtpReply> {
    const reply = await this.command('QUIT');
    await this.closed;
    return reply;
  }

  /** Drops the connection without QUIT. */
  destroy(): Promise<void> {
    this.#socket.destroy();
    return this.closed;
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let index: number;
    while ((index = this.#buffer.indexOf('\r\n')) >= 0) {
      const line = this.#buffer.slice(0, index);
      this.#buffer = this.#buffer.slice(index + 2);
      this.#lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply: SmtpReply = { code: Number(line.slice(0, 3)), text: line.slice(4), lines: this.#lines };
        this.#lines = [];
        const waiter = this.#waiters.shift();
        if (waiter) waiter(reply);
        else this.#replies.push(reply);
      }
    }
  }
}

let sequence = 0;

/** A minimal RFC 5322 message with a unique Message-ID; returns both. */
export function testMessage(from: string, to: string, body = 'Hello.'): { messageId: string; raw: string } {
  const messageId = `<t${process.pid}.${Date.now()}.${++sequence}@client.test>`;
  const raw = [`From: ${from}`, `To: ${to}`, `Subject: test ${sequence}`, `Message-ID: ${messageId}`, '', body, ''].join('\r\n');
  return { messageId, raw };
}
