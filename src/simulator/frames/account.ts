/** The simulated account, its numbers and its running balance, as every frame carries them. */

const ACCOUNT = {
  created_on: '2022-04-26T05:37:15.707Z',
  modified_on: '2023-12-04T05:57:32.303Z',
  uuid: '58699aff-b3dd-46b6-b428-029cde3368a4',
  email: 'info@opentact.local',
  name: 'Simulated account',
  phone: 9038479977,
  level: 'Level2',
  address1: '1 Loopback Way',
  address2: null,
  zip_code: '700004',
  city: 'Localhost',
  deleted_on: null,
  disabled_on: null,
  balance: 815.05362,
  time_zone: null,
};

/** Our number, and the number on the other end of calls and messages. */
export const OUR_TN = '18382049000';
export const REMOTE_NUMBER = '+18389999168';

export const TN = {
  created_on: '2024-01-17T06:29:59.473Z',
  modified_on: '2024-01-17T08:03:54.373Z',
  tn: Number(OUR_TN),
  deleted_on: null,
};

let currentBalance = 873.0604;

/** The account snapshot as it sits in an event, with the balance of the moment. */
export function accountSnapshot(): Record<string, unknown> {
  return { ...ACCOUNT, balance: currentBalance };
}

/** Moves the balance on by one charge: a fresh amount per frame, so no two balance events match. */
export function nextBalance(): number {
  currentBalance = Math.round((currentBalance - 0.00015) * 100_000) / 100_000;
  return currentBalance;
}
