import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { equal, ok, test } from '../dashboards/testing';
import { Field, NumberInput, Select } from './fields';

// tsx compiles renderer/ (outside the root tsconfig's include) with the classic JSX transform: React.createElement
(globalThis as { React?: typeof React }).React = React;
const h = React.createElement;

const attr = (html: string, tag: string, name: string) => new RegExp(`<${tag}[^>]*\\s${name}="([^"]*)"`).exec(html)?.[1];

test('a field\'s error is outside its label and described on its control', () => {
  const html = renderToStaticMarkup(h(Field, { label: 'Heads', error: 'dModel 128 is not divisible by nHeads 3', children: h(NumberInput, { value: 3, onChange: () => {} }) }));
  const label = /<label[^>]*>(.*?)<\/label>/.exec(html);
  ok(label, html);
  equal(label[1], 'Heads', 'the accessible name is the label alone');
  const id = attr(html, 'input', 'id');
  ok(id, 'the control has an id');
  equal(attr(html, 'label', 'for'), id, 'the label names the control');
  equal(attr(html, 'input', 'aria-invalid'), 'true');
  const described = attr(html, 'input', 'aria-describedby');
  ok(described, 'the control points at its message');
  ok(html.includes(`id="${described}">dModel 128 is not divisible by nHeads 3</span>`), html);
});

test('a valid field has no error attributes', () => {
  const html = renderToStaticMarkup(h(Field, { label: 'Schedule', children: h(Select, { value: 'cosine', options: ['cosine', 'linear'] as const, onChange: () => {} }) }));
  ok(attr(html, 'select', 'id'), 'the select has an id');
  equal(attr(html, 'select', 'aria-invalid'), undefined);
  equal(attr(html, 'select', 'aria-describedby'), undefined);
  ok(!html.includes('field-message'));
});
