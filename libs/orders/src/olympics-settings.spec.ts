import { olympicsSettingsFromEnv } from './olympics-settings.js';

describe('olympicsSettingsFromEnv', () => {
  it('fills defaults', () => {
    expect(olympicsSettingsFromEnv({})).toEqual({
      histogramEncoding: 'u32',
      alertsMax: 1000,
    });
  });

  it('reads the variables', () => {
    expect(
      olympicsSettingsFromEnv({
        HISTOGRAM_ENCODING: 'seed-u8',
        ALERTS_MAX: '3',
      }),
    ).toEqual({ histogramEncoding: 'seed-u8', alertsMax: 3 });
  });

  it('names the variable that is wrong', () => {
    expect(() =>
      olympicsSettingsFromEnv({ HISTOGRAM_ENCODING: 'u16' }),
    ).toThrow('HISTOGRAM_ENCODING must be one of u32, seed-u8');
    expect(() => olympicsSettingsFromEnv({ ALERTS_MAX: 'many' })).toThrow(
      'ALERTS_MAX must be an integer of at least 1',
    );
  });
});
