"""Entrypoint of the "custom container" of flow (c): example.com/iris-trainer:* in config.yaml.

A real custom container would have the trainer baked in at its WORKDIR. kiln maps the image
to a local runtime instead: this file runs with examples/trainer as its working directory.
It first prints the GPUs the replica was given (CUDA_VISIBLE_DEVICES, set by kiln from its
accelerator inventory; "<unset>" without accelerators), then runs the iris trainer with the
container's args.
"""
import os
import sys


def main():
    print(f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')}", flush=True)
    # `python3 /path/container_entry.py` puts this file's folder on sys.path, not the working
    # directory; the trainer package lives in the working directory, as in a container image.
    sys.path.insert(0, os.getcwd())
    from trainer import task

    sys.argv = ["trainer.task"] + sys.argv[1:]
    task.main()


if __name__ == "__main__":
    main()
