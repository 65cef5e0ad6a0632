import { describe, expect, it } from 'vitest';
import { checkInt, checkIntText, checkNumber, checkNumberText, checkProbability, intProblem, numberProblem } from '../lib/check.js';

describe('option checks', () => {
  it('names an integer rule one way: positive, non-negative, ≥ n, in [a, b]', () => {
    expect(intProblem('batchSize', 0, 1)).toBe('batchSize must be a positive integer, got 0');
    expect(intProblem('seed', -1, 0)).toBe('seed must be a non-negative integer, got -1');
    expect(intProblem('size', 15, 16)).toBe('size must be an integer ≥ 16, got 15');
    expect(intProblem('rank', 2, 0, 1)).toBe('rank must be an integer in [0, 1], got 2');
    expect(intProblem('n', 1.5)).toBe('n must be an integer, got 1.5');
    expect(intProblem('n', 2 ** 53)).toBe(`n must be an integer, got ${2 ** 53}`); // not a safe integer
    expect(intProblem('n', '3')).toBe("n must be an integer, got '3'");
    expect([intProblem('n', 1, 1), intProblem('n', 7, 0, 7), intProblem('n', -4)]).toEqual([null, null, null]);
  });

  it('names a number rule one way, never accepting NaN or ±Infinity', () => {
    expect(numberProblem('p', 1.5, { min: 0, max: 1 })).toBe('p must be a number in [0, 1], got 1.5');
    expect(numberProblem('f', 0.1, { above: 0.1, below: 0.95 })).toBe('f must be a number in (0.1, 0.95), got 0.1');
    expect(numberProblem('g', 0, { above: 0, max: 1 })).toBe('g must be a number in (0, 1], got 0');
    expect(numberProblem('s', 0, { above: 0 })).toBe('s must be a finite number > 0, got 0');
    expect(numberProblem('lr', -1, { min: 0 })).toBe('lr must be a finite number ≥ 0, got -1');
    expect(numberProblem('m', NaN)).toBe('m must be a finite number, got NaN');
    expect(numberProblem('s', Infinity, { above: 0 })).toBe('s must be a finite number > 0, got Infinity');
    expect([numberProblem('p', 0, { min: 0, max: 1 }), numberProblem('m', -3.5), numberProblem('g', 1, { above: 0, max: 1 })]).toEqual([null, null, null]);
  });

  it('throws RangeError for a number out of its rule, TypeError for no number, and returns the value', () => {
    expect(checkInt('k', 3, 2)).toBe(3);
    expect(checkNumber('x', 0.5, { min: 0 })).toBe(0.5);
    expect(checkProbability('p', 1)).toBe(1);
    expect(() => checkInt('k', 1, 2)).toThrow(RangeError);
    expect(() => checkInt('k', undefined, 1)).toThrow(new TypeError('k must be a positive integer, got undefined'));
    expect(() => checkProbability('p', -0.1)).toThrow(new RangeError('p must be a number in [0, 1], got -0.1'));
  });

  it('reads integers given as text and quotes the text when it is not one', () => {
    expect(checkIntText('--batch', '16', 1)).toBe(16);
    expect(checkIntText('RANK', ' 0 ', 0)).toBe(0);
    expect(() => checkIntText('--batch', 'x', 1)).toThrow(new RangeError("--batch must be a positive integer, got 'x'"));
    expect(() => checkIntText('--batch', '', 1)).toThrow(/got ''/);
    expect(() => checkIntText('--batch', '2.5', 1)).toThrow(/got '2\.5'/);
  });

  it('reads numbers given as text and quotes the text when it is none or out of range', () => {
    expect(checkNumberText('--threshold', '1.25', { min: 0, max: 4 })).toBe(1.25);
    expect(checkNumberText('--threshold', ' 0 ', { min: 0, max: 4 })).toBe(0);
    expect(() => checkNumberText('--threshold', '4.5', { min: 0, max: 4 })).toThrow(new RangeError("--threshold must be a number in [0, 4], got '4.5'"));
    expect(() => checkNumberText('--threshold', 'x', { min: 0, max: 4 })).toThrow(/got 'x'/);
    expect(() => checkNumberText('--threshold', '', { min: 0, max: 4 })).toThrow(/got ''/);
    expect(() => checkNumberText('--threshold', 'Infinity')).toThrow(/must be a finite number, got 'Infinity'/);
  });
});
