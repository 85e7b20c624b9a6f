#!/usr/bin/env python3
"""Pretrains the exported experiment with PyTorch, on one process or many (torchrun), into a workbench run folder.

    python3 train.py --out RUNS_DIR [--steps N]                      one process
    torchrun --nproc_per_node=N train.py [--zero1 | --fsdp] ...      data parallel (launch.sh does this)

What the workbench does, step for step (engine/training/): the same batches from the same seeded sampler
(sampler.py), the objective (causal LM, MLM 80/10/10, MLM + NSP), AdamW with decay on matrices only,
linear warmup then cosine / linear decay, gradient accumulation (the mean over micro-batches), global-norm
clipping, evaluation on fixed batches every evalInterval steps, checkpoints every checkpointInterval steps,
at a new best validation loss and at the end. Under DDP every rank draws the whole global micro-batch and
takes its own rows, and each rank's loss is its share of the global mean, so that averaging the gradients
gives exactly the one-process gradient of the same global batch. Rank 0 writes the run folder (runfolder.py).
"""
import argparse
import contextlib
import math
import os
import re
import sys
import threading
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

import runfolder
from model import create_model
from sampler import IGNORE, Batches, Rng, load_config

HERE = os.path.dirname(os.path.abspath(__file__))


LEAVE_TIMEOUT_S = 60


def leave_process_group(code):
    """Waits for every rank, then leaves the process group. Leaving can hang at random (pytorch/pytorch#75097;
    seen here once with gloo after a complete run), and by now the run folder is written and closed, so after
    LEAVE_TIMEOUT_S the process exits with its code instead of holding torchrun until its own timeout."""
    done = threading.Event()

    def leave():
        dist.barrier()
        dist.destroy_process_group()
        done.set()

    threading.Thread(target=leave, daemon=True).start()
    if not done.wait(LEAVE_TIMEOUT_S):
        print(f"train.py: leaving the process group took over {LEAVE_TIMEOUT_S} s (a known PyTorch hang); the run is saved, exiting", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(code)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, help="optimizer steps (default: the pretrain cell's); the decay follows it, as `workbench train --steps`")
    # no default inside this folder: exporting the project again with --overwrite would take its runs with it
    ap.add_argument("--out", required=True, help="the runs folder, e.g. the experiment's NAME.runs: the run is written to OUT/RUN_ID/")
    ap.add_argument("--run-id", help="the run folder's name (default: a new time-ordered id)")
    ap.add_argument("--zero1", action="store_true", help="shard AdamW's state across ranks (ZeroRedundancyOptimizer)")
    ap.add_argument("--fsdp", action="store_true", help="shard parameters, gradients and optimizer state (FullyShardedDataParallel; CUDA)")
    ap.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32", help="autocast dtype; fp16 needs CUDA (with a gradient scaler)")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    ap.add_argument("--threads", type=int, help="torch CPU threads per process")
    a = ap.parse_args(argv)
    if a.zero1 and a.fsdp:
        ap.error("--zero1 and --fsdp: choose one (FSDP shards the optimizer state already)")
    if a.steps is not None and a.steps < 1:
        ap.error(f"--steps {a.steps}: give a positive number of optimizer steps")
    return a


# ---------------------------------------------------------------------------------------------------
# schedule (engine/training/schedule.ts) and the parameter groups (engine/training/layerGroups.ts)

def schedule_of(p, steps):
    """The pretrain cell's schedule for a run of `steps`: a warmup longer than the run is cut to fit it."""
    s = p["schedule"]
    warmup = min(s["warmupSteps"], steps)
    decay = max(s["decaySteps"], warmup) if s.get("decaySteps") is not None else steps
    return {"kind": s["kind"], "lr": p["optimizer"]["lr"], "minLr": s["minLr"], "warmup": warmup, "decay": decay}


def learning_rate(s, it):
    if it < s["warmup"]:
        return s["lr"] * (it + 1) / (s["warmup"] + 1)
    if s["kind"] == "constant":
        return s["lr"]
    if it > s["decay"]:
        return s["minLr"]
    ratio = (it - s["warmup"]) / (s["decay"] - s["warmup"]) if s["decay"] > s["warmup"] else 1
    coeff = 0.5 * (1 + math.cos(math.pi * ratio)) if s["kind"] == "cosine" else 1 - ratio
    return s["minLr"] + coeff * (s["lr"] - s["minLr"])


_LAYER = re.compile(r"^(?:h|bert\.encoder\.layer)\.(\d+)\.")
_EMBEDDING = re.compile(r"^(?:wte|wpe|bert\.embeddings)\.")


def layer_of(name):
    m = _LAYER.match(name)
    return f"layer.{m.group(1)}" if m else ("embeddings" if _EMBEDDING.match(name) else "head")


def layer_groups(named):
    groups = {}
    for n, p in named:
        groups.setdefault(layer_of(n), []).append((n, p))
    rank = lambda g: -1 if g == "embeddings" else (math.inf if g == "head" else int(g[6:]))
    return dict(sorted(groups.items(), key=lambda kv: rank(kv[0])))


# ---------------------------------------------------------------------------------------------------

class Pretraining(nn.Module):
    """The model and its objective in one forward, so that DDP and FSDP see every parameter used inside it.

    Returns this rank's share of the global batch's mean loss: sums over its rows divided by counts over the
    whole global batch (tokens, masked tokens, sequences), so that the shares of all ranks add up to the mean.
    """

    def __init__(self, model, objective):
        super().__init__()
        self.model, self.objective = model, objective

    def forward(self, b, counts):
        m = self.model
        hidden = m(**b)  # [b, T, d]
        if self.objective == "causal-lm":
            logits = m.lm_logits(hidden)
            lm = F.cross_entropy(logits.flatten(0, 1).float(), b["labels"].flatten(), reduction="sum") / counts["tokens"]
            return {"loss": lm, "lm": lm}
        chosen = b["labels"] != IGNORE
        logits = m.mlm_logits(hidden[chosen]).float()  # [M, V]
        targets = b["labels"][chosen]
        lm = F.cross_entropy(logits, targets, reduction="sum") / counts["masked"]
        out = {"loss": lm, "lm": lm, "mlm_right": (logits.argmax(-1) == targets).sum(), "mlm_count": chosen.sum()}
        if self.objective == "mlm-nsp":
            nl = m.nsp_logits(hidden).float()
            nsp = F.cross_entropy(nl, b["next_sentence_labels"], reduction="sum") / counts["rows"]
            out.update(loss=lm + nsp, nsp=nsp, nsp_right=(nl.argmax(-1) == b["next_sentence_labels"]).sum(), nsp_count=torch.tensor(nl.shape[0]))
        return out


class Trainer:
    def __init__(self, a, cfg):
        self.a, self.cfg = a, cfg
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available())
        self.device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
        if a.precision == "fp16" and not use_cuda:
            sys.exit("train.py: --precision fp16 needs CUDA (CPU autocast runs bfloat16 only); use --precision bf16 or fp32")
        if a.fsdp and not use_cuda:
            sys.exit("train.py: --fsdp needs CUDA GPUs (FullyShardedDataParallel of this torch runs on NCCL); use --zero1 to shard the optimizer state on CPUs")
        if self.world > 1:
            dist.init_process_group("nccl" if use_cuda else "gloo")
        if a.threads:
            torch.set_num_threads(a.threads)
        if (a.zero1 or a.fsdp) and self.world == 1:
            sys.exit(f"train.py: {'--zero1' if a.zero1 else '--fsdp'} shards state across processes, and this is one; start it with "
                     f"launch.sh (torchrun) and NPROC_PER_NODE of 2 or more, or leave the flag out")
        self.strategy = "fsdp" if a.fsdp else "zero1" if a.zero1 else "ddp" if self.world > 1 else "single"

        t = cfg["training"]
        self.t = t
        self.steps = a.steps or t["steps"]
        self.schedule = schedule_of(t, self.steps)
        if t["batchSize"] % self.world:
            sys.exit(f"train.py: the batch of {t['batchSize']} sequences cannot be split evenly over {self.world} processes; "
                     f"run a number of processes that divides it, or change pretrain.batchSize")
        self.rows = t["batchSize"] // self.world
        self.batches = Batches(HERE, cfg)

        self.raw = create_model(cfg["model"])
        init = runfolder.read_safetensors(os.path.join(HERE, cfg["initialWeights"]))
        self.raw.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()}, strict=True)
        self.raw.to(self.device)
        self.named = [(n, p) for n, p in self.raw.named_parameters()]
        self.groups = layer_groups(self.named)
        self.model = self._wrap(Pretraining(self.raw, t["objective"]))
        self.optimizer = self._optimizer()
        self.scaler = torch.cuda.amp.GradScaler() if a.precision == "fp16" else None
        self.autocast = (lambda: torch.autocast(self.device.type, dtype=torch.bfloat16 if a.precision == "bf16" else torch.float16)) \
            if a.precision != "fp32" else contextlib.nullcontext

    def _wrap(self, module):
        if self.strategy == "fsdp":
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
            return FSDP(module, device_id=self.device)
        if self.world > 1:
            # a head the objective never reaches (BERT's NSP head under plain MLM) gets no gradient, as in the workbench
            unused = self.t["objective"] == "mlm" or bool(self.cfg["model"].get("numLabels"))
            return nn.parallel.DistributedDataParallel(module, find_unused_parameters=unused)
        return module

    def _optimizer(self):
        """AdamW with the workbench's groups: decay on the parameters its model marks (matrices), none on biases and norms."""
        o = self.t["optimizer"]
        decay = set(self.cfg["decay"])
        params = list(self.model.parameters()) if self.strategy == "fsdp" else None
        groups = [{"params": params, "weight_decay": o["weightDecay"]}] if params is not None else [
            {"params": [p for n, p in self.named if n in decay], "weight_decay": o["weightDecay"]},
            {"params": [p for n, p in self.named if n not in decay], "weight_decay": 0.0},
        ]
        if self.strategy == "fsdp":
            print("train.py: under --fsdp the parameters are flattened, so weight decay applies to every parameter (biases and norms too)", file=sys.stderr)
        kw = {"lr": self.schedule["lr"], "betas": (o["beta1"], o["beta2"]), "eps": o["eps"]}
        # the order of parameters across the groups is the optimizer's global index, which a checkpoint maps back to names
        self.indexed = [n for n, _ in self.named if n in decay] + [n for n, _ in self.named if n not in decay]
        if self.strategy == "zero1":
            from torch.distributed.optim import ZeroRedundancyOptimizer
            return ZeroRedundancyOptimizer(groups, optimizer_class=torch.optim.AdamW, **kw)
        return torch.optim.AdamW(groups, **kw)

    # -----------------------------------------------------------------------------------------------

    def local(self, batch):
        """This rank's rows of a global batch, as tensors, and the counts of the whole batch its loss divides by."""
        r0 = self.rank * self.rows
        b = {k: torch.from_numpy(v[r0:r0 + self.rows]).to(self.device) for k, v in batch.items()}
        labels = batch["labels"]
        counts = {"tokens": labels.size, "masked": int((labels != IGNORE).sum()), "rows": labels.shape[0]}
        return b, counts

    def reduce(self, values):
        """Sums of floats over the ranks."""
        x = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(x)
        return x.tolist()

    def gradients(self, rng):
        """Loss and gradients of one optimizer step: the mean over gradAccumSteps micro-batches."""
        accum = self.t["gradAccumSteps"]
        loss = 0.0
        for i in range(accum):
            b, counts = self.local(self.batches.train(rng))
            sync = i == accum - 1 or self.world == 1
            with (contextlib.nullcontext() if sync else self.model.no_sync()):
                with self.autocast():
                    out = self.model(b, counts)
                share = out["loss"] * (self.world / accum)  # the gradient averaging over ranks divides by world again
                (self.scaler.scale(share) if self.scaler else share).backward()
            loss += out["loss"].item()
        return self.reduce([loss])[0] / accum

    @torch.no_grad()
    def evaluate(self, batches):
        """The workbench's evaluation: mean loss over the fixed batches, perplexity of the LM part, MLM / NSP accuracy."""
        self.model.eval()
        sums = np.zeros(6)  # loss, lm, mlm right, mlm count, nsp right, nsp count
        for batch in batches:
            b, counts = self.local(batch)
            with self.autocast():
                out = self.model(b, counts)
            sums += [float(out["loss"]), float(out["lm"])] + [float(out.get(k, 0)) for k in ("mlm_right", "mlm_count", "nsp_right", "nsp_count")]
        self.model.train()
        loss, lm, mr, mc, nr, nc = self.reduce(sums.tolist())
        n = max(1, len(batches))
        r = {"loss": loss / n, "perplexity": math.exp(lm / n)}
        if mc:
            r["mlm_accuracy"] = mr / mc
        if nc:
            r["nsp_accuracy"] = nr / nc
        return r

    def grad_norms(self):
        """√Σg² per layer group over the parameters with a gradient (FSDP: the global norm only)."""
        if self.strategy == "fsdp":
            return {}
        out = {}
        for g, params in self.groups.items():
            sq = [p.grad.detach().double().pow(2).sum() for _, p in params if p.grad is not None]
            if sq:
                out[g] = math.sqrt(float(sum(sq)))
        return out

    def clip(self, layer_norms):
        clip = self.t["clipNorm"]
        if self.strategy == "fsdp":
            return float(self.model.clip_grad_norm_(clip if clip else math.inf))
        total = math.sqrt(sum(n * n for n in layer_norms.values()))
        if clip:
            torch.nn.utils.clip_grad_norm_([p for _, p in self.named if p.grad is not None], clip)
        return total

    # -----------------------------------------------------------------------------------------------

    def state(self):
        """Parameters and AdamW moments as numpy arrays by workbench name (collective: every rank calls it)."""
        if self.strategy == "fsdp":
            from torch.distributed.fsdp import FullStateDictConfig, StateDictType
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
            with FSDP.state_dict_type(self.model, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
                full = self.model.state_dict()
            params = [(n, full["model." + n].float().cpu().numpy()) for n, _ in self.named] if self.rank == 0 else None
            return params, None  # the flattened optimizer state is not mapped back to names: a model-only checkpoint
        if self.strategy == "zero1":
            self.optimizer.consolidate_state_dict(to=0)
            state = self.optimizer.state_dict()["state"] if self.rank == 0 else None
            state = {self.indexed[i]: s for i, s in state.items()} if state is not None else None
        else:
            by_param = {p: n for n, p in self.named}
            state = {by_param[p]: s for p, s in self.optimizer.state.items()}
        if self.rank != 0:
            return None, None
        params = [(n, p.detach().float().cpu().numpy()) for n, p in self.named]
        # a parameter that never had a gradient has no moments yet: zeros, as the workbench's AdamW holds them
        m = {n: state[n]["exp_avg"].float().cpu().numpy() if n in state else np.zeros(a.shape, np.float32) for n, a in params}
        v = {n: state[n]["exp_avg_sq"].float().cpu().numpy() if n in state else np.zeros(a.shape, np.float32) for n, a in params}
        return params, (m, v)

    def run(self):
        a, t, cfg = self.a, self.t, self.cfg
        run = None
        if self.rank == 0:
            run = runfolder.RunFolder(a.out, a.run_id or runfolder.new_run_id(), cfg["name"], self.run_config(), self.backend_info(),
                                      t["seed"], os.path.join(HERE, cfg["tokenizer"]))
            print(f"train.py: {self.strategy} on {self.world} process(es), {self.device.type}, {a.precision}; run folder {run.dir}", file=sys.stderr)
        rng = Rng((t["seed"] + 1) & 0xFFFFFFFF)
        tokens_per_step = t["batchSize"] * t["seqLen"] * t["gradAccumSteps"]
        step, tokens, elapsed, best, last_ck = 0, 0, 0.0, None, -1
        status, error, val_loss = "running", None, None
        try:
            while step < self.steps:
                t0 = time.perf_counter()
                lr = learning_rate(self.schedule, step)
                for g in self.optimizer.param_groups:
                    g["lr"] = lr
                loss = self.gradients(rng)
                if self.scaler:
                    self.scaler.unscale_(self.optimizer)  # norms and clipping see the true gradients
                layer_norms = self.grad_norms()
                if not math.isfinite(loss):
                    status, error = "failed", {"code": "INTERNAL", "message": f"the loss is {loss} at step {step + 1}; lower the learning rate or raise clipping"}
                    break
                global_norm = self.clip(layer_norms)
                before = {g: [p.detach().clone() for _, p in ps] for g, ps in self.groups.items()} if self.strategy != "fsdp" else None
                if self.scaler:
                    self.scaler.step(self.optimizer)
                    self.scaler.update()
                else:
                    self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                step += 1
                tokens += tokens_per_step
                seconds = time.perf_counter() - t0
                elapsed += seconds
                scalars = {"train/loss": loss, "train/lr": lr, "grad/global_norm": global_norm,
                           "perf/tokens_per_s": tokens_per_step / seconds, "progress/elapsed_s": elapsed}
                scalars.update({f"grad_norm/{g}": n for g, n in layer_norms.items()})
                if before is not None:
                    for g, ps in self.groups.items():
                        d = sum(float((p.detach() - b).double().pow(2).sum()) for (_, p), b in zip(ps, before[g]))
                        base = sum(float(b.double().pow(2).sum()) for b in before[g])
                        scalars[f"update_ratio/{g}"] = math.sqrt(d / base) if base > 0 else 0.0
                val_loss = None
                if step % t["evalInterval"] == 0 or step == self.steps:
                    tr, va = self.evaluate(self.batches.train_sample), self.evaluate(self.batches.validation)
                    val_loss = va["loss"]
                    for split, r in (("train", tr), ("val", va)):
                        scalars["val/loss" if split == "val" else "train/eval_loss"] = r["loss"]
                        scalars.update({f"{split}/{k}": v for k, v in r.items() if k != "loss"})
                if run:
                    run.log(step, tokens, scalars)
                new_best = val_loss is not None and (best is None or val_loss < best)
                if step % t["checkpointInterval"] == 0 or new_best:
                    best = val_loss if new_best else best
                    self.checkpoint(run, step, tokens, rng, val_loss, elapsed)
                    last_ck = step
                if run:
                    run.update(step=step, tokensSeen=tokens)
            if status == "running":
                status = "completed"
        except KeyboardInterrupt:
            status = "cancelled"
        if last_ck != step:
            self.checkpoint(run, step, tokens, rng, val_loss, elapsed)
        if run:
            run.close(status, error)
            print(f"train.py: {status} at step {step}; best validation loss {best}; run folder {run.dir}", file=sys.stderr)
        code = 0 if status == "completed" else 1
        if self.world > 1:
            leave_process_group(code)
        return code

    def checkpoint(self, run, step, tokens, rng, val_loss, elapsed):
        params, moments = self.state()
        if run:
            run.checkpoint(step, tokens, params, moments, step, rng.state, val_loss, self.t["keepCheckpoints"],
                           {"elapsedSeconds": elapsed, "trainedBy": "pytorch"})

    def run_config(self):
        """run.json's config: the experiment's cells as the workbench would record them, and who trained it."""
        rc = dict(self.cfg["runConfig"])
        spec = dict(rc["spec"])
        p = dict(spec["pretrain"])
        s = self.schedule
        p["steps"] = self.steps
        p["schedule"] = {**p["schedule"], "warmupSteps": s["warmup"], **({"decaySteps": s["decay"]} if p["schedule"].get("decaySteps") is not None else {})}
        spec["pretrain"] = p
        rc["spec"] = spec
        rc["trainedBy"] = {"engine": "pytorch", "version": torch.__version__, "processes": self.world, "strategy": self.strategy,
                           "precision": self.a.precision, "device": self.device.type, **({"cellId": self.cfg["cellId"]} if "cellId" in self.cfg else {})}
        return rc

    def backend_info(self):
        device = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "CPU"
        return {"name": "cpu" if self.device.type == "cpu" else "node-gpu", "tfBackend": "torch", "package": "torch", "version": torch.__version__,
                "device": f"{device} × {self.world} process(es), PyTorch {self.strategy}", "threads": torch.get_num_threads()}


def main(argv):
    a = parse_args(argv)
    cfg = load_config(HERE)
    torch.manual_seed(cfg["training"]["seed"])
    return Trainer(a, cfg).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
