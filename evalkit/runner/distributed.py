"""Several processes on one run (DESIGN §7): who this process is, and steps that fail together.

A launcher (`accelerate launch --multi_gpu`, `torchrun`, `mpirun`, SLURM `srun` around
them) starts the processes; accelerate's `PartialState` joins them into one
torch.distributed group (NCCL on GPUs, gloo on CPU). Every process makes the same
collective calls in the same order; `run()` reports a step that failed on one process to
all of them at the same point, so none is left waiting in a collective and a caller that
catches the error (a sweep going on to its next run) stays in step with the others.

accelerate and torch.distributed are imported only when the launcher started more than
one process, so single-process runs and `evalkit --help` stay light.
"""

from __future__ import annotations

import atexit
import os
from typing import Any, Callable

from evalkit.errors import UserError

# Set by torchrun / accelerate launch (WORLD_SIZE) and by the MPI launchers.
_WORLD_SIZE_VARS = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_LOCAL_SIZE_VARS = ("LOCAL_WORLD_SIZE", "MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_SIZE")
# Collectives wait this long (seconds) for a slow process, e.g. one downloading a model
# while the others wait for it; torch's defaults (10 min NCCL) are too short for that.
TIMEOUT_ENV, DEFAULT_TIMEOUT_S = "EVALKIT_DIST_TIMEOUT", 7200


def _int_env(names: tuple[str, ...], default: int) -> int:
    for name in names:
        if os.environ.get(name, "").strip():
            return int(os.environ[name])
    return default


def launched_world_size() -> int:
    """How many processes the launcher started; 1 when evalkit was run directly."""
    return _int_env(_WORLD_SIZE_VARS, 1)


def threads_per_process(local_world_size: int) -> int:
    """CPU threads for each of the processes sharing this machine's cores.

    Launchers export OMP_NUM_THREADS=1 to every process, which leaves cores idle for
    the CPU-side work (decoding, resizing, PNG encoding); a value above 1 is the
    user's own choice and is kept.
    """
    explicit = _int_env(("OMP_NUM_THREADS",), 0)
    if explicit > 1:
        return explicit
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(local_world_size, 1))


class ProcessFailed(RuntimeError):
    """Another process failed in a step this one finished: raised so that all stop together."""


class SingleProcess:
    """The plain `evalkit run`: every step runs here, nothing to wait for."""

    rank, world_size, local_world_size = 0, 1, 1
    is_main = is_local_main = True

    def barrier(self) -> None:
        pass

    def run(self, fn: Callable[[], Any], here: bool = True, gather: bool = False) -> Any:
        """fn() where `here` is true; with `gather`, the list of every process's result."""
        value = fn() if here else None
        return [value] if gather else value

    def first_on_local_main(self, fn: Callable[[], Any]) -> Any:
        """fn() on each machine's main process first (it fills caches), then on the others."""
        return fn()


class ProcessGroup(SingleProcess):
    """One of `world_size` processes started by a launcher (accelerate's PartialState)."""

    def __init__(self, state):
        self._state = state
        self.rank, self.world_size = state.process_index, state.num_processes
        self.is_main, self.is_local_main = state.is_main_process, state.is_local_main_process
        self.local_world_size = _int_env(_LOCAL_SIZE_VARS, self.world_size)

    def barrier(self) -> None:
        self._state.wait_for_everyone()

    def gather(self, value: Any) -> list:
        """Every process's `value` (picklable), in rank order, on every process."""
        from accelerate.utils import gather_object

        return gather_object([value])

    def run(self, fn: Callable[[], Any], here: bool = True, gather: bool = False) -> Any:
        value, failure = None, None
        if here:
            try:
                value = fn()
            except Exception as err:  # reported to every process below, then re-raised here
                failure = err
        described = None if failure is None else (type(failure).__name__, str(failure), isinstance(failure, UserError))
        results = self.gather((described, value if gather and failure is None else None))
        if failure is not None:
            raise failure
        for rank, (desc, _) in enumerate(results):
            if desc is not None:
                kind, message, user_error = desc
                if user_error:  # the same one-line message and exit code on every process
                    raise UserError(message)
                raise ProcessFailed(f"process {rank} failed: {kind}: {message}")
        return [v for _, v in results] if gather else value

    def first_on_local_main(self, fn: Callable[[], Any]) -> Any:
        first = self.run(fn, here=self.is_local_main)
        later = self.run(fn, here=not self.is_local_main)
        return first if self.is_local_main else later


_current: SingleProcess | None = None


def current() -> SingleProcess:
    """This process's place in the launched group, joined on first use (once per process)."""
    global _current
    if _current is None:
        _current = _join_group() if launched_world_size() > 1 else SingleProcess()
    return _current


def _use_cpu(torch) -> bool:
    """gloo on CPU when asked (`accelerate launch --cpu` sets ACCELERATE_USE_CPU) or when
    there is no accelerator to run NCCL & co. on."""
    if os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes"):
        return True
    accelerator = getattr(torch, "accelerator", None)
    return not (accelerator.is_available() if accelerator else torch.cuda.is_available())


def _join_group() -> ProcessGroup:
    from datetime import timedelta

    import torch
    from accelerate import PartialState

    timeout = timedelta(seconds=_int_env((TIMEOUT_ENV,), DEFAULT_TIMEOUT_S))
    state = PartialState(cpu=_use_cpu(torch), timeout=timeout)
    group = ProcessGroup(state)
    torch.set_num_threads(threads_per_process(group.local_world_size))
    atexit.register(state.destroy_process_group)
    return group
