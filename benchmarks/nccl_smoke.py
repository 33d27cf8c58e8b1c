"""A one-process NCCL smoke run, started by ``torchrun --standalone --nproc_per_node 1`` (``gpu_check.sh``).

With ``WORLD_SIZE = 1`` the trainer would not create a process group at all,
so this script creates the NCCL group itself, checks a collective and a
``DistributedDataParallel`` step of the package's network, and then runs the
package's trainer and its process-group helpers inside that group (the
trainer joins an existing group). Prints one JSON line of figures; exit 0
only if everything ran.
"""

from __future__ import annotations

import json
import os
import sys
import time

import torch
import torch.distributed as dist


def main(out_dir: str) -> int:
    started = time.perf_counter()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl")
    figures = {"backend": dist.get_backend(), "world_size": dist.get_world_size()}
    try:
        tensor = torch.full((4,), 1.5, device="cuda")
        dist.all_reduce(tensor)
        figures["all_reduce_ok"] = bool(torch.equal(tensor.cpu(), torch.full((4,), 1.5)))

        from cellnas_edu.cells.genotypes import DARTS
        from cellnas_edu.nets.model import network_for_dataset
        from cellnas_edu.train import make_config, train
        from cellnas_edu.train.distributed import setup

        net = network_for_dataset(DARTS, "synthetic", C=4, layers=4, auxiliary=False).cuda()
        ddp = torch.nn.parallel.DistributedDataParallel(net, device_ids=[local_rank])
        ddp(torch.randn(8, 3, 32, 32, device="cuda")).square().mean().backward()
        figures["ddp_step_ok"] = all(p.grad is not None for p in net.parameters() if p.requires_grad)

        ctx = setup("cuda")
        figures["setup_joined_group"] = not ctx.owns_group if hasattr(ctx, "owns_group") else None
        figures["broadcast_ok"] = ctx.broadcast_from_main({"x": 1}) == {"x": 1}
        config = make_config("smoke", arch="DARTS", dataset="synthetic", device="cuda", epochs=1)
        summary = train(config, out_dir, progress=False)
        figures["train_epochs"] = summary.epochs_done
        figures["train_test_acc"] = summary.final_test_acc
        figures["seconds"] = round(time.perf_counter() - started, 1)
        ok = figures["all_reduce_ok"] and figures["ddp_step_ok"] and summary.epochs_done == 1 and not summary.diverged
        print(json.dumps(figures))
        return 0 if ok else 1
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "nccl-smoke-run"))
