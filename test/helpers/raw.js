// A raw protocol connection for tests: write bytes, read reply lines.
import net from 'node:net';
import { once } from 'node:events';

export class Raw {
  constructor(socket) {
    this.socket = socket;
    this.buffer = '';
    this.lines = [];
    this.waiters = [];
    this.closed = false;
    socket.on('data', (chunk) => {
      this.buffer += chunk.toString('latin1');
      let nl;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(port, host = '127.0.0.1') {
    const socket = net.connect(port, host);
    await once(socket, 'connect');
    return new Raw(socket);
  }

  static async openUnix(path) {
    const socket = net.connect(path);
    await once(socket, 'connect');
    return new Raw(socket);
  }

  /** A connection that said `hello`: multi-line replies end with "." and every line is answered. */
  static async openExt(port, host = '127.0.0.1') {
    const raw = await Raw.open(port, host);
    const hello = await raw.ask('hello');
    if (!hello.startsWith('1 hello lockd ')) throw new Error(`no hello: ${hello}`);
    raw.ext = true;
    return raw;
  }

  get address() {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  send(text) {
    this.socket.write(Buffer.from(text, 'latin1'));
    return this;
  }

  /** Resolves to the next n reply lines; rejects if the connection closes first. */
  async read(n = 1) {
    while (this.lines.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.lines.length} of ${n} lines: ${JSON.stringify(this.lines)}`);
      await new Promise((r) => this.waiters.push(r));
    }
    return this.lines.splice(0, n);
  }

  /** Sends a request and resolves to n reply lines. */
  async ask(text, n = 1) {
    this.send(text.endsWith('\n') ? text : text + '\n');
    const lines = await this.read(n);
    return n === 1 ? lines[0] : lines;
  }

  /**
   * Sends a request whose reply may have any number of lines (d, sd, who, q
   * without hello) followed by a sentinel, and resolves to the lines before it.
   * After hello it reads up to the terminator instead, sending nothing more.
   */
  async askAll(text) {
    if (this.ext) {
      this.send(`${text}\n`);
      const out = [];
      for (let [line] = await this.read(1); line !== '.'; [line] = await this.read(1)) out.push(line);
      return out;
    }
    const sentinel = `i --sentinel-${Math.random()}--`;
    this.send(`${text}\n${sentinel}\n`);
    const out = [];
    for (;;) {
      const [line] = await this.read(1);
      if (line === `0 Lock Not Locked: ${sentinel.slice(2)}`) return out;
      out.push(line);
    }
  }

  async closedByServer() {
    while (!this.closed) await new Promise((r) => this.waiters.push(r));
  }

  end() {
    this.socket.end();
    return once(this.socket, 'close');
  }

  reset() {
    this.socket.resetAndDestroy();
    return once(this.socket, 'close');
  }
}
