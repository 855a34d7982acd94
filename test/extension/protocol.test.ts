import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBucket, isPanelRestoreState } from '../../src/protocol/messages';

const thresholds = { low: 0.5, valid: 0.9, match: 0.99 };

test('the bucket the preview shows: SRS, FDA, or why neither', () => {
  assert.equal(formatBucket(null, undefined, thresholds), '—');
  assert.equal(formatBucket(0.95, undefined, thresholds), '—', 'no bucket computed yet');
  assert.equal(formatBucket(0.95, 'srs', thresholds), 'SRS');
  assert.equal(formatBucket(0.7, 'fda', thresholds), 'FDA');
  assert.equal(formatBucket(0.995, null, thresholds), 'none (match)');
  assert.equal(formatBucket(0.3, null, thresholds), 'none (< low)');
});

test('restore state with a dataset sample round-trips; malformed samples are refused', () => {
  const state = {
    documentUri: 'file:///tmp/a.py',
    imageUri: 'file:///d/images/abc.png',
    imageIsSource: false,
    imageName: '00675497 (sft)',
    model: 'test',
    sample: { dataset: '/d', id: '00675497', referenceId: '00675497', referenceImage: '/d/images/abc.png' },
  };
  assert.ok(isPanelRestoreState(JSON.parse(JSON.stringify(state))));
  assert.ok(!isPanelRestoreState({ ...state, sample: { dataset: '/d', id: 3 } }));
  assert.ok(!isPanelRestoreState({ ...state, imageIsSource: 'yes' }));
});
