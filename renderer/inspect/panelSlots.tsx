/**
 * Where the sample and fill-mask panels mount in the inspect cell. They are built beside this cell
 * (renderer/inspect/SamplePanel.tsx and FillMaskPanel.tsx, another branch); until they are merged these
 * placeholders stand in with the same props. At merge: re-export the real panels here, nothing else changes.
 */
export interface ModelPanelProps {
  experimentPath: string;
  runId: string;
  checkpoint: string;
  /** puts a text (e.g. a generated one) into the attention views */
  onSendToAttention?: (text: string) => void;
}

function Placeholder({ what }: { what: string }) {
  return <div className="muted" data-testid="panel-slot">{what} comes with the sampling panels.</div>;
}

export function SamplePanel(_: ModelPanelProps) {
  return <Placeholder what="Sampling text from this GPT run" />;
}

export function FillMaskPanel(_: ModelPanelProps) {
  return <Placeholder what="Filling [MASK] tokens with this BERT run" />;
}
