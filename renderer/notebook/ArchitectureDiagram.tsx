import type { ReactElement } from 'react';
import type { ResolvedModelConfig } from '../../common/modelConfig';

/**
 * The model as a column of boxes: embeddings → N × block → head. Inside the block, the order of layer
 * norm and residual add shows pre-LN (GPT-2: LN before each sublayer, a final LN) against post-LN
 * (BERT: LN after each residual add, LN on the embeddings).
 */
export function ArchitectureDiagram({ config: c }: { config: ResolvedModelConfig }) {
  const pre = c.arch === 'gpt';
  const ffn = c.moe ? `MoE: ${c.moe.experts} experts, top-${c.moe.topK}` : `MLP ${c.dModel}→${c.dFF}→${c.dModel}`;
  const attn = `${c.causal ? 'causal ' : ''}${c.attention === 'linear' ? 'linear ' : ''}attention, ${c.nHeads}×${c.headDim}`;
  const embed = `tokens ${c.vocabSize}×${c.dModel}` + (c.positional === 'learned' ? ` + positions ${c.contextLength}` : c.positional === 'rope' ? ' (RoPE in attention)' : ' + sinusoidal');
  const block: { text: string; kind: 'ln' | 'op' | 'add' }[] = pre
    ? [{ text: 'LayerNorm', kind: 'ln' }, { text: attn, kind: 'op' }, { text: '+ residual', kind: 'add' }, { text: 'LayerNorm', kind: 'ln' }, { text: ffn, kind: 'op' }, { text: '+ residual', kind: 'add' }]
    : [{ text: attn, kind: 'op' }, { text: '+ residual', kind: 'add' }, { text: 'LayerNorm', kind: 'ln' }, { text: ffn, kind: 'op' }, { text: '+ residual', kind: 'add' }, { text: 'LayerNorm', kind: 'ln' }];
  const head = pre ? ['LayerNorm (final)', `LM head → ${c.vocabSize} (tied)`] : ['MLM head: dense + LN', `→ ${c.vocabSize} (tied)${c.arch === 'bert' ? ' · NSP pooler' : ''}`];

  const W = 300, x = 40, w = 220, rowH = 24, gap = 6;
  let y = 8;
  const items: ReactElement[] = [];
  const box = (text: string, cls: string, key: string, h = rowH) => {
    items.push(<g key={key}><rect x={x} y={y} width={w} height={h} rx={5} className={`arch-${cls}`} /><text x={x + w / 2} y={y + h / 2 + 4} textAnchor="middle" className="arch-text">{text}</text></g>);
    y += h + gap;
  };
  const arrow = (key: string) => { items.push(<line key={key} x1={x + w / 2} y1={y - gap} x2={x + w / 2} y2={y} className="arch-arrow" />); };

  box(embed, 'embed', 'emb');
  if (!pre) box('LayerNorm (embeddings)', 'ln', 'embln');
  const blockTop = y;
  y += 18;
  block.forEach((b, i) => { box(b.text, b.kind, `b${i}`, b.kind === 'op' ? rowH + 4 : rowH - 4); arrow(`a${i}`); });
  const blockBottom = y;
  const frame = (<g key="frame"><rect x={x - 14} y={blockTop - 2} width={w + 28} height={blockBottom - blockTop + 2} rx={8} className="arch-block" /><text x={x - 6} y={blockTop + 12} className="arch-label">{`${c.nLayers} × block (${pre ? 'pre-LN' : 'post-LN'})`}</text></g>);
  y += 6;
  head.forEach((h, i) => box(h, i === 0 && pre ? 'ln' : 'head', `h${i}`));

  return (
    <svg className="arch" viewBox={`0 0 ${W} ${y + 4}`} role="img" aria-label={`architecture: ${c.arch}, ${c.nLayers} layers`}>
      {frame}
      {items}
    </svg>
  );
}
