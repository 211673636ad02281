"""The node-local image cache: cache/directory.py keeps the files, cache/keeper.py the
periodic pre-fetch, sweep and prune of one API process."""
