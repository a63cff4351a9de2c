import { PresenceConfigurationError } from '@presence/core';
import { describe, expect, it } from 'vitest';
import { retryBudget } from './retry-budget.js';

describe('retryBudget', () => {
  it('refuses an unknown option, naming the closest known one', () => {
    expect(() => retryBudget({ capacty: 10 } as never)).toThrow(expect.objectContaining({ field: 'retryBudget.capacty', message: expect.stringContaining('Did you mean "capacity"?') }));
  });

  it('starts full with the documented defaults', () => {
    const budget = retryBudget();
    expect(budget).toMatchObject({ capacity: 500, retryCost: 5, timeoutCost: 10, successRefund: 1, tokens: 500 });
  });

  it('charges 5 per retry and 10 per timeout retry, refusing when too few tokens are left', () => {
    const budget = retryBudget({ capacity: 22 });
    expect(budget.acquire(true)).toBe(true);
    expect(budget.tokens).toBe(12);
    expect(budget.acquire(false)).toBe(true);
    expect(budget.acquire(true)).toBe(false);
    expect(budget.tokens).toBe(7);
    expect(budget.acquire(false)).toBe(true);
    expect(budget.acquire(false)).toBe(false);
    expect(budget.tokens).toBe(2);
  });

  it('allows capacity / retryCost retries in a row: 100 with the defaults', () => {
    const budget = retryBudget();
    let granted = 0;
    while (budget.acquire(false)) granted++;
    expect(granted).toBe(100);
  });

  it('refunds first-try successes up to capacity, and resets', () => {
    const budget = retryBudget({ capacity: 10, retryCost: 5, successRefund: 2 });
    expect(budget.refund()).toBe(false);
    budget.acquire(false);
    expect(budget.refund()).toBe(true);
    expect(budget.tokens).toBe(7);
    budget.refund();
    budget.refund();
    expect(budget.tokens).toBe(10);
    budget.acquire(false);
    budget.reset();
    expect(budget.tokens).toBe(10);
  });

  it.each([
    ['capacity', 0],
    ['capacity', -1],
    ['retryCost', Number.NaN],
    ['timeoutCost', -5],
    ['successRefund', '1'],
  ])('refuses %s = %s, naming the field', (field, value) => {
    const error = (() => {
      try {
        retryBudget({ [field]: value });
      } catch (caught) {
        return caught;
      }
    })() as PresenceConfigurationError;
    expect(error).toBeInstanceOf(PresenceConfigurationError);
    expect(error.field).toBe(`retryBudget.${field}`);
    expect(error.message).toContain(field);
  });
});
