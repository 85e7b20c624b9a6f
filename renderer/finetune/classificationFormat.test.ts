import { equal, ok, test } from '../dashboards/testing';
import { confusionShade, pct, trainableShareText } from './classificationFormat';

test('confusion shades grow with the share of the true class; empty cells stay clear', () => {
  equal(confusionShade(0, 10, true), 'transparent');
  equal(confusionShade(10, 10, true), 'rgba(31, 119, 180, 1.000)');
  equal(confusionShade(5, 10, false), 'rgba(214, 39, 40, 0.550)');
  equal(confusionShade(3, 0, false), 'transparent');
});

test('figures and the trainable share read as the cell shows them', () => {
  equal(pct(0.4567), '45.7%');
  ok(/1,480,913 parameters, 100%/.test(trainableShareText('full', 1480913)));
  ok(/adapters and the classification head/.test(trainableShareText('lora', null)));
});
