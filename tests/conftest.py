"""Suite-wide fixtures: every test runs offline against loopback stand-ins."""

pytest_plugins = [
    "tests.cli_run",
    "tests.disks",
    "tests.stand_ins.hf_plugin",
    "tests.stand_ins.langsmith_plugin",
    "tests.stand_ins.openai_plugin",
    "tests.stand_ins.replay_plugin",
]
