import {
  Injectable,
  Module,
  Scope,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import {
  newOrder,
  OnPurchase,
  ORDER,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';
import { PrivateRedis, startListenerModule } from '@podium/testing';
import type { Effects } from './effects/effects.js';
import type { ListenerContext } from './listener-group.js';

/** What the interceptor saw: the call's type, its order and its listener context. */
const seen: { type: string; order: Order; context: ListenerContext }[] = [];

/** Tags the effects it lets through: interceptors see (and may change) what a handler returns. */
@Injectable()
class TaggingInterceptor implements NestInterceptor {
  intercept(
    context: ExecutionContext,
    next: CallHandler<Effects>,
  ): Observable<Effects> {
    const rpc = context.switchToRpc();
    seen.push({
      type: context.getType(),
      order: rpc.getData<Order>(),
      context: rpc.getContext<ListenerContext>(),
    });
    return next.handle().pipe(
      map((effects) => ({
        writes: [
          ...('writes' in effects ? effects.writes : []),
          ['SADD', 'test:tagged', rpc.getData<Order>().orderId],
        ],
      })),
    );
  }
}

/** Refuses orders by "intruder": the order fails for the listener, like a handler that throws. */
@Injectable()
class NoIntruders implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getData<Order>().who !== 'intruder';
  }
}

@Injectable()
@UseInterceptors(TaggingInterceptor)
class GuardedListener {
  @OnPurchase({ listener: 'guarded', channel: ORDERS_CHANNEL })
  @UseGuards(NoIntruders)
  onPurchase(order: Order): Effects {
    return { writes: [['SADD', 'test:guarded', order.orderId]] };
  }
}

@Module({ providers: [GuardedListener, TaggingInterceptor, NoIntruders] })
class GuardedModule {}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedListener {
  @OnPurchase({ listener: 'per-request', channel: ORDERS_CHANNEL })
  onPurchase(): null {
    return null;
  }
}

@Module({ providers: [RequestScopedListener] })
class RequestScopedModule {}

@Injectable({ scope: Scope.TRANSIENT })
class TransientListener {
  @OnPurchase({ listener: 'transient', channel: ORDERS_CHANNEL })
  onPurchase(): null {
    return null;
  }
}

@Module({ providers: [TransientListener] })
class TransientModule {}

describe('ListenerRegistrar', () => {
  let server: PrivateRedis;

  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(() => server.destroy());

  it("runs handlers through Nest's context: interceptors and guards bound to a listener apply to it, as to a microservice handler", async () => {
    const listener = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [GuardedModule],
      redis: server,
      logger: false,
    });
    try {
      const order = await listener.announce({
        event: 'Womens Judo',
        who: 'ann',
      });
      expect(await listener.applied(order)).toEqual({ guarded: 'applied' });
      expect(await listener.redis.smembers('test:tagged')).toEqual([
        order.orderId,
      ]);
      expect(seen).toEqual([
        {
          type: 'rpc',
          order,
          context: {
            listener: 'guarded',
            mode: 'ephemeral',
            group: 'ephemeral',
            pattern: ORDERS_CHANNEL,
          },
        },
      ]);

      const refused = await listener.announce({
        event: 'Womens Judo',
        who: 'intruder',
      });
      await expect(listener.applied(refused)).rejects.toThrow(
        `order ${refused.orderId}: guarded failed it`,
      );
      expect(
        await listener.redis.sismember('test:guarded', refused.orderId),
      ).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it.each([
    [
      'request-scoped',
      RequestScopedModule,
      'RequestScopedListener.onPurchase (listener "per-request"): RequestScopedListener is request-scoped',
    ],
    [
      'transient',
      TransientModule,
      'TransientListener.onPurchase (listener "transient"): TransientListener is transient',
    ],
  ])(
    'stops start-up, naming it, for a handler on a %s provider',
    async (_scope, module, message) => {
      await expect(
        startListenerModule({
          type: ORDER,
          make: newOrder,
          listeners: [module],
          redis: server,
          logger: false,
        }),
      ).rejects.toThrow(
        `@OnMessage on ${message}, but a listener is bound once at start-up to one instance for the whole process; make it a default (singleton) provider`,
      );
    },
  );
});
