"""HuggingGPT as a LangChain agent: the toolkit (`hugginggpt.tools`), the agent (`hugginggpt.agent`)
and its prompts (`hugginggpt.prompts`), installed under one name. In a checkout these are links to the
repository's tools/, agent/ and prompts/ folders."""
