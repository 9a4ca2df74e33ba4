import { credentials, type Client, type ChannelCredentials, type ClientOptions } from "@grpc/grpc-js";

/** The constructor shape ts-proto generates for every service client */
export type ClientConstructor<C extends Client> = new (address: string, creds: ChannelCredentials, options?: Partial<ClientOptions>) => C;

/**
 * One client per service for one control-plane address, made on first use and kept: a grpc-js client owns a
 * channel, and a channel per request would cost a TCP (and HTTP/2) handshake on every page load.
 */
export class ClientPool {
  readonly #clients = new Map<ClientConstructor<Client>, Client>();
  #closed = false;

  constructor(readonly address: string) {}

  get<C extends Client>(ctor: ClientConstructor<C>): C {
    if (this.#closed) throw new Error(`client pool for ${this.address} is closed`);
    let client = this.#clients.get(ctor as ClientConstructor<Client>);
    if (client === undefined) {
      client = new ctor(this.address, credentials.createInsecure(), { "grpc.max_receive_message_length": 16 * 1024 * 1024 });
      this.#clients.set(ctor as ClientConstructor<Client>, client);
    }
    return client as C;
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}
