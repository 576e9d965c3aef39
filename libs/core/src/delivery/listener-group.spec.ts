import { ORDER } from '@podium/orders';
import { defineMessageType } from '../messages/index.js';
import { planGroups, type ListenerDefinition } from './listener-group.js';

const listener = (
  name: string,
  pattern = 'purchase_orders',
  type: ListenerDefinition['type'] = ORDER,
): ListenerDefinition => ({ name, type, pattern, handle: () => null });
const found = [
  listener('sales-summary'),
  listener('customer-invoices'),
  listener('event-alerts', 'purchase_orders:*'),
];
const plan = (options: Partial<Parameters<typeof planGroups>[1]>) =>
  planGroups(found, {
    defaultMode: 'ephemeral',
    modeOverrides: {},
    groupOverrides: {},
    ...options,
  });
const shape = (groups: ReturnType<typeof planGroups>) =>
  groups.map((g) => ({
    name: g.name,
    mode: g.mode,
    listeners: g.listeners.map((l) => l.name),
  }));

describe('planGroups', () => {
  it('runs one group per mode by default, named after the mode', () => {
    expect(
      shape(
        plan({
          defaultMode: 'durable',
          modeOverrides: { DELIVERY_EVENT_ALERTS: 'ephemeral' },
        }),
      ),
    ).toEqual([
      {
        name: 'durable',
        mode: 'durable',
        listeners: ['sales-summary', 'customer-invoices'],
      },
      { name: 'ephemeral', mode: 'ephemeral', listeners: ['event-alerts'] },
    ]);
  });

  it("takes a listener's mode from its decorator when the configuration names none for it; the configuration overrides it", () => {
    const withDefault = [
      ...found,
      { ...listener('lottery'), mode: 'durable' as const },
    ];
    const modes = (modeOverrides: Record<string, 'ephemeral' | 'queued'>) =>
      planGroups(withDefault, {
        defaultMode: 'ephemeral',
        modeOverrides,
        groupOverrides: {},
      }).flatMap((g) => g.listeners.map((l) => `${l.name}: ${l.mode}`));
    expect(modes({})).toEqual([
      'sales-summary: ephemeral',
      'customer-invoices: ephemeral',
      'event-alerts: ephemeral',
      'lottery: durable',
    ]);
    expect(modes({ DELIVERY_LOTTERY: 'queued' })).toContain('lottery: queued');
  });

  it('gives a listener a group of its own with DELIVERY_GROUP_<NAME>', () => {
    expect(
      shape(
        plan({
          defaultMode: 'queued',
          groupOverrides: { DELIVERY_GROUP_CUSTOMER_INVOICES: 'slow' },
        }),
      ),
    ).toEqual([
      {
        name: 'queued',
        mode: 'queued',
        listeners: ['sales-summary', 'event-alerts'],
      },
      { name: 'slow', mode: 'queued', listeners: ['customer-invoices'] },
    ]);
  });

  it('runs only the listeners LISTENERS names', () => {
    expect(shape(plan({ listeners: ['event-alerts'] }))).toEqual([
      { name: 'ephemeral', mode: 'ephemeral', listeners: ['event-alerts'] },
    ]);
  });

  it('refuses a group whose members would be delivered in different modes', () => {
    expect(() =>
      plan({
        modeOverrides: { DELIVERY_SALES_SUMMARY: 'durable' },
        groupOverrides: { DELIVERY_GROUP_SALES_SUMMARY: 'ephemeral' },
      }),
    ).toThrow(
      'group "ephemeral" would mix delivery modes: sales-summary is durable, customer-invoices is ephemeral; give one of them a group of its own (DELIVERY_GROUP_CUSTOMER_INVOICES)',
    );
  });

  it('refuses a group whose members would handle different message types', () => {
    const SIGNUP = defineMessageType<{ id: string }>()({
      name: 'signup',
      idField: 'id',
      recordKeyPrefix: 'signup:',
      toHash: ({ id }) => ({ id }),
      fromHash: (id) => ({ id }),
      channels: () => ['signups'],
    });
    expect(() =>
      planGroups(
        [listener('sales-summary'), listener('welcome', 'signups', SIGNUP)],
        { defaultMode: 'queued', modeOverrides: {}, groupOverrides: {} },
      ),
    ).toThrow(
      'group "queued" would mix message types: sales-summary handles order, welcome signup; give one of them a group of its own (DELIVERY_GROUP_WELCOME)',
    );
  });

  it('refuses variables and LISTENERS entries that name no listener', () => {
    expect(() =>
      plan({ groupOverrides: { DELIVERY_GROUP_SALES_SUMARY: 'x' } }),
    ).toThrow('(DELIVERY_GROUP_SALES_SUMARY) names no listener');
    expect(() =>
      plan({ modeOverrides: { DELIVERY_NOBODY: 'queued' } }),
    ).toThrow('(DELIVERY_NOBODY) names no listener');
    expect(() => plan({ listeners: ['nobody'] })).toThrow(
      '(LISTENERS) names unknown listener(s): nobody',
    );
  });
});
