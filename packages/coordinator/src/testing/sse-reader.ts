/** One server-sent event or comment as received. */
export interface SseMessage {
  comment?: string;
  id?: string;
  data?: string;
}

/** Reads a `text/event-stream` over a real socket and keeps every message it received. */
export class SseReader {
  readonly messages: SseMessage[] = [];
  readonly status: Promise<number>;
  private readonly abort = new AbortController();

  constructor(url: string) {
    this.status = fetch(url, { signal: this.abort.signal, headers: { accept: 'text/event-stream' } }).then((response) => {
      void this.pump(response);
      return response.status;
    });
  }

  /** Parsed `data:` payloads of real events (comments skipped). */
  events<T = Record<string, unknown>>(): T[] {
    return this.messages.filter((m) => m.data !== undefined).map((m) => JSON.parse(m.data!) as T);
  }

  close(): void {
    this.abort.abort();
  }

  private async pump(response: Response): Promise<void> {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.messages.push(parseBlock(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
  }
}

function parseBlock(block: string): SseMessage {
  const message: SseMessage = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) message.comment = line.slice(1).trim();
    else if (line.startsWith('id: ')) message.id = line.slice(4);
    else if (line.startsWith('data: ')) message.data = (message.data === undefined ? '' : `${message.data}\n`) + line.slice(6);
  }
  return message;
}
