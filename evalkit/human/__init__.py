"""Human preference studies (DrawBench protocol): build pairwise tasks from runs, collect
votes in a Streamlit app backed by SQLite, analyse them (DESIGN §8, docs/human.md).

Nothing heavy is imported here, so `evalkit --help` stays instant."""
