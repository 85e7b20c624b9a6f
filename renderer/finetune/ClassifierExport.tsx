import { ExportButton, ExportDetails } from '../notebook/ExportRun';
import { useStore } from '../state/store';

/**
 * The Export of the fine-tuned run the cell shows: once it has finished a step, its checkpoint as a bundle that
 * transformers loads as BertForSequenceClassification / GPT2ForSequenceClassification (the labels in
 * config.json, the test figures in the card). The pretrain cell's runs table offers the same for its runs.
 */
export function ClassifierExport({ runId }: { runId: string }) {
  const exportable = useStore((s) => {
    const h = s.history.find((x) => x.id === runId);
    return Boolean(h?.ok && h.run.step > 0 && s.jobs[runId]?.ended !== null);
  });
  if (!exportable) return null;
  return (
    <table className="table runs-table" aria-label="export the classifier">
      <tbody>
        <tr>
          <td className="mono">{runId}</td>
          <td className="muted">a Hugging Face sequence classifier: safetensors, config with its labels, tokenizer, model card, ONNX</td>
          <td className="num"><ExportButton runId={runId} /></td>
        </tr>
        <ExportDetails runId={runId} colSpan={3} />
      </tbody>
    </table>
  );
}
