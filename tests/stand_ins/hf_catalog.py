"""The HF stand-in's default model catalog: realistic model ids per task, Hub-shaped entries.

`DEFAULT_CATALOG[task]` is a list of model entries shaped like the Hub's `model_info` JSON (camelCase keys,
`inferenceProviderMapping` as a dict keyed by provider) plus a `stand_in` dict of knobs the stand-in reads
(output format, labels, ...). Within a task, models are listed most-liked first.

Rules the defaults follow: most tasks are served by `hf-inference`; text-to-video and image-to-video only
by `fal-ai` (one also by `replicate`); tabular-regression models exist but no provider serves them; a few
models have a second provider, one mapping is `staging` and one `error`.
"""

from __future__ import annotations

import copy
from typing import Any

HF = "hf-inference"
LIVE = "live"

# (provider, providerId or None for the HF id, status)
Provider = tuple[str, str | None, str]


def model_entry(
    model_id: str,
    task: str,
    likes: int,
    downloads: int,
    library: str | None = "transformers",
    tags: str = "",
    providers: tuple[Provider, ...] = ((HF, None, LIVE),),
    *,
    pipeline_tag: str | None = None,
    **stand_in: Any,
) -> dict[str, Any]:
    """One Hub-shaped catalog entry; `stand_in` keywords tune the stand-in's answers for this model."""
    pipeline_tag = pipeline_tag or task
    seed = sum(map(ord, model_id))
    all_tags = [t for t in [library, *tags.split(), pipeline_tag, "license:apache-2.0", "region:us"] if t]
    return {
        "_id": f"{seed:08x}{likes:08x}{downloads % 0xFFFFFFFF:08x}",
        "id": model_id,
        "modelId": model_id,
        "author": model_id.split("/")[0] if "/" in model_id else None,
        "sha": f"{seed * 7919:040x}"[-40:],
        "createdAt": f"202{seed % 4}-0{1 + seed % 9}-1{seed % 10}T10:00:00.000Z",
        "lastModified": f"2025-0{1 + seed % 9}-2{seed % 8}T12:00:00.000Z",
        "private": False,
        "gated": False,
        "disabled": False,
        "likes": likes,
        "downloads": downloads,
        "trendingScore": likes // 100 + seed % 7,
        "library_name": library,
        "pipeline_tag": pipeline_tag,
        "tags": list(dict.fromkeys(all_tags)),
        "inferenceProviderMapping": {
            name: {"status": status, "providerId": provider_id or model_id, "task": task}
            for name, provider_id, status in providers
        },
        "stand_in": stand_in,
    }


def _fal(provider_id: str, status: str = LIVE) -> Provider:
    return ("fal-ai", provider_id, status)


def _replicate(provider_id: str, status: str = LIVE) -> Provider:
    return ("replicate", provider_id, status)


_HF_ONLY = ((HF, None, LIVE),)
_ST = "sentence-transformers"
_AUDIOSET = ["Speech", "Music", "Male speech, man speaking", "Female speech, woman speaking", "Silence"]
_EMOTIONS = ["neu", "hap", "ang", "sad"]
_ROWS: list[tuple[Any, ...]] = [
    # task, id, likes, downloads, library, tags, providers, stand_in knobs
    ("audio-classification", "MIT/ast-finetuned-audioset-10-10-0.4593", 330, 1_205_331, "transformers",
     "audio-spectrogram-transformer", _HF_ONLY, {"labels": _AUDIOSET}),
    ("audio-classification", "ehcalabres/wav2vec2-lg-xlsr-en-speech-emotion-recognition", 205, 187_204,
     "transformers", "wav2vec2", _HF_ONLY,
     {"labels": ["neutral", "happy", "angry", "sad", "calm", "fearful", "disgust", "surprised"]}),
    ("audio-classification", "alefiury/wav2vec2-large-xlsr-53-gender-recognition-librispeech", 42, 222_588,
     "transformers", "wav2vec2", _HF_ONLY, {"labels": ["male", "female"]}),
    ("audio-classification", "superb/hubert-large-superb-er", 25, 41_877, "transformers", "hubert",
     _HF_ONLY, {"labels": _EMOTIONS}),
    ("audio-to-audio", "speechbrain/metricgan-plus-voicebank", 62, 9_214, "speechbrain",
     "speech-enhancement", _HF_ONLY, {"sources": 1}),
    ("audio-to-audio", "speechbrain/sepformer-wham", 42, 1_554, "speechbrain", "audio-source-separation",
     _HF_ONLY, {"sources": 2}),
    ("audio-to-audio", "JorisCos/ConvTasNet_Libri2Mix_sepclean_16k", 31, 2_870, "asteroid",
     "audio-source-separation", _HF_ONLY, {"sources": 2}),
    ("automatic-speech-recognition", "openai/whisper-large-v3", 4_812, 5_102_334, "transformers",
     "whisper", ((HF, None, LIVE), _fal("fal-ai/whisper")), {"cased": True}),
    ("automatic-speech-recognition", "openai/whisper-large-v3-turbo", 2_301, 3_881_020, "transformers",
     "whisper", _HF_ONLY, {"cased": True}),
    ("automatic-speech-recognition", "jonatasgrosman/wav2vec2-large-xlsr-53-english", 466, 18_234_759,
     "transformers", "wav2vec2", _HF_ONLY, {}),
    ("automatic-speech-recognition", "facebook/wav2vec2-base-960h", 361, 1_011_745, "transformers",
     "wav2vec2", _HF_ONLY, {}),
    ("document-question-answering", "impira/layoutlm-document-qa", 1_094, 61_453, "transformers",
     "layoutlm", _HF_ONLY, {}),
    ("document-question-answering", "naver-clova-ix/donut-base-finetuned-docvqa", 218, 71_332,
     "transformers", "donut vision-encoder-decoder", _HF_ONLY, {}),
    ("document-question-answering", "impira/layoutlm-invoices", 201, 9_832, "transformers", "layoutlm",
     _HF_ONLY, {}),
    ("feature-extraction", "intfloat/multilingual-e5-large", 912, 2_483_110, _ST,
     "xlm-roberta sentence-similarity", _HF_ONLY, {"dims": 1024, "pooled": True}),
    ("feature-extraction", "mixedbread-ai/mxbai-embed-large-v1", 688, 1_902_455, _ST,
     "bert sentence-similarity", _HF_ONLY, {"dims": 1024, "pooled": True}),
    ("feature-extraction", "BAAI/bge-large-en-v1.5", 512, 3_401_876, _ST, "bert sentence-similarity",
     _HF_ONLY, {"dims": 1024, "pooled": True}),
    ("feature-extraction", "facebook/bart-base", 178, 2_924_294, "transformers", "bart", _HF_ONLY,
     {"dims": 768, "pooled": False}),
    ("fill-mask", "google-bert/bert-base-uncased", 2_214, 52_713_901, "transformers", "bert", _HF_ONLY,
     {"mask_token": "[MASK]"}),
    ("fill-mask", "FacebookAI/xlm-roberta-base", 712, 11_892_004, "transformers", "xlm-roberta", _HF_ONLY,
     {"mask_token": "<mask>"}),
    ("fill-mask", "distilbert/distilbert-base-uncased", 698, 9_402_113, "transformers", "distilbert",
     _HF_ONLY, {"mask_token": "[MASK]"}),
    ("fill-mask", "FacebookAI/roberta-base", 503, 8_201_557, "transformers", "roberta", _HF_ONLY,
     {"mask_token": "<mask>"}),
    ("image-classification", "google/vit-base-patch16-224", 757, 8_458_647, "transformers", "vit",
     _HF_ONLY, {}),
    ("image-classification", "Falconsai/nsfw_image_detection", 602, 32_884_211, "transformers", "vit",
     _HF_ONLY, {"labels": ["normal", "nsfw"]}),
    ("image-classification", "microsoft/resnet-50", 411, 1_992_004, "transformers", "resnet",
     ((HF, None, "staging"),), {}),
    ("image-segmentation", "mattmdjaga/segformer_b2_clothes", 383, 301_552, "transformers", "segformer",
     _HF_ONLY, {}),
    ("image-segmentation", "nvidia/segformer-b0-finetuned-ade-512-512", 152, 411_290, "transformers",
     "segformer", _HF_ONLY, {}),
    ("image-segmentation", "facebook/detr-resnet-50-panoptic", 135, 67_335, "transformers", "detr",
     _HF_ONLY, {}),
    ("image-segmentation", "briaai/RMBG-2.0", 98, 402_117, "transformers", "background-removal",
     (_fal("fal-ai/bria/background/remove"),), {}),
    ("image-to-image", "stabilityai/stable-diffusion-xl-refiner-1.0", 1_874, 412_330, "diffusers",
     "stable-diffusion", _HF_ONLY, {"image_format": "jpeg"}),
    ("image-to-image", "timbrooks/instruct-pix2pix", 1_102, 99_120, "diffusers", "stable-diffusion",
     ((HF, None, LIVE), _replicate(
         "timothybrooks/instruct-pix2pix:30c1d0b916a6f8efce20493f5d61ee27491ab2a60437c13c588468b9810ec23f")),
     {"image_format": "png"}),
    ("image-to-image", "black-forest-labs/FLUX.1-Kontext-dev", 905, 301_442, "diffusers", "flux",
     (_fal("fal-ai/flux-kontext/dev"),), {}),
    ("image-to-text", "Salesforce/blip-image-captioning-large", 1_322, 1_530_884, "transformers", "blip",
     _HF_ONLY, {}),
    ("image-to-text", "nlpconnect/vit-gpt2-image-captioning", 901, 1_101_552, "transformers",
     "vision-encoder-decoder", _HF_ONLY, {}),
    ("image-to-text", "Salesforce/blip-image-captioning-base", 654, 5_600_691, "transformers", "blip",
     _HF_ONLY, {}),
    ("image-to-video", "stabilityai/stable-video-diffusion-img2vid-xt", 3_012, 201_334, "diffusers",
     "stable-video-diffusion", (_fal("fal-ai/stable-video"),), {}),
    ("image-to-video", "Wan-AI/Wan2.1-I2V-14B-720P", 512, 40_553, "diffusers", "wan",
     (_fal("fal-ai/wan-i2v"),), {}),
    ("image-to-video", "THUDM/CogVideoX-5b-I2V", 301, 35_221, "diffusers", "cogvideox",
     (_fal("fal-ai/cogvideox-5b/image-to-video"),), {}),
    ("image-to-video", "Lightricks/LTX-Video-0.9.7-dev", 188, 12_004, "diffusers", "ltx-video",
     (_fal("fal-ai/ltx-video-13b-dev/image-to-video"),), {}),
    ("object-detection", "facebook/detr-resnet-50", 837, 1_089_904, "transformers", "detr", _HF_ONLY, {}),
    ("object-detection", "hustvl/yolos-tiny", 262, 88_123, "transformers", "yolos", _HF_ONLY, {}),
    ("object-detection", "hustvl/yolos-small", 74, 41_990, "transformers", "yolos", _HF_ONLY, {}),
    ("object-detection", "facebook/detr-resnet-101", 101, 62_337, "transformers", "detr",
     ((HF, None, "error"),), {}),
    ("question-answering", "deepset/roberta-base-squad2", 851, 1_180_221, "transformers", "roberta",
     _HF_ONLY, {}),
    ("question-answering", "distilbert/distilbert-base-cased-distilled-squad", 251, 301_442,
     "transformers", "distilbert", _HF_ONLY, {}),
    ("question-answering", "google-bert/bert-large-uncased-whole-word-masking-finetuned-squad", 180,
     212_004, "transformers", "bert", _HF_ONLY, {}),
    ("sentence-similarity", "sentence-transformers/all-MiniLM-L6-v2", 3_104, 80_114_552, _ST,
     "bert feature-extraction", _HF_ONLY, {"dims": 384}),
    ("sentence-similarity", "BAAI/bge-m3", 1_980, 5_102_993, _ST, "xlm-roberta feature-extraction",
     _HF_ONLY, {"dims": 1024}),
    ("sentence-similarity", "sentence-transformers/all-mpnet-base-v2", 1_012, 18_220_431, _ST,
     "mpnet feature-extraction", _HF_ONLY, {"dims": 768}),
    ("sentence-similarity", "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", 903,
     6_101_880, _ST, "bert feature-extraction", _HF_ONLY, {"dims": 384}),
    ("summarization", "facebook/bart-large-cnn", 1_321, 3_102_845, "transformers", "bart", _HF_ONLY, {}),
    ("summarization", "sshleifer/distilbart-cnn-12-6", 272, 1_109_942, "transformers", "bart", _HF_ONLY,
     {}),
    ("summarization", "google/pegasus-xsum", 201, 98_112, "transformers", "pegasus", _HF_ONLY, {}),
    ("table-question-answering", "google/tapas-base-finetuned-wtq", 216, 23_245, "transformers", "tapas",
     _HF_ONLY, {}),
    ("table-question-answering", "google/tapas-large-finetuned-wtq", 121, 12_881, "transformers", "tapas",
     _HF_ONLY, {}),
    ("table-question-answering", "microsoft/tapex-large-finetuned-wtq", 71, 4_220, "transformers", "bart",
     _HF_ONLY, {}),
    ("tabular-classification", "julien-c/wine-quality", 21, 1_334, "sklearn", "wine-quality",
     _HF_ONLY, {"labels": [5, 6, 7]}),
    ("tabular-classification", "scikit-learn/tabular-playground", 9, 331, "sklearn", "skops", _HF_ONLY,
     {"labels": [0, 1]}),
    ("tabular-classification", "keras-io/tab_transformer", 7, 104, "keras", "tensorflow", _HF_ONLY,
     {"labels": ["<=50K", ">50K"]}),
    ("tabular-regression", "scikit-learn/Fish-Weight", 12, 402, "sklearn", "skops", (), {}),
    ("tabular-regression", "merve/tips9y0jvt5q-tip-regression", 5, 88, "sklearn", "skops", (), {}),
    ("tabular-regression", "keras-io/timeseries_forecasting_for_weather", 4, 51, "keras", "tensorflow",
     (), {}),
    ("text-classification", "distilbert/distilbert-base-uncased-finetuned-sst-2-english", 851,
     4_401_229, "transformers", "distilbert", _HF_ONLY, {"labels": ["POSITIVE", "NEGATIVE"]}),
    ("text-classification", "ProsusAI/finbert", 780, 1_550_310, "transformers", "bert finance", _HF_ONLY,
     {"labels": ["positive", "negative", "neutral"]}),
    ("text-classification", "cardiffnlp/twitter-roberta-base-sentiment-latest", 702, 2_301_776,
     "transformers", "roberta", _HF_ONLY, {"labels": ["positive", "negative", "neutral"]}),
    ("text-classification", "j-hartmann/emotion-english-distilroberta-base", 452, 801_330, "transformers",
     "roberta emotion", _HF_ONLY,
     {"labels": ["joy", "sadness", "anger", "neutral", "fear", "surprise", "disgust"]}),
    ("text-generation", "meta-llama/Llama-3.1-8B-Instruct", 4_101, 5_795_728, "transformers",
     "llama conversational text-generation-inference", _HF_ONLY, {}),
    ("text-generation", "openai-community/gpt2", 2_630, 17_272_637, "transformers",
     "gpt2 text-generation-inference", _HF_ONLY, {}),
    ("text-generation", "mistralai/Mistral-7B-Instruct-v0.3", 1_802, 1_401_992, "transformers",
     "mistral conversational text-generation-inference", _HF_ONLY, {}),
    ("text-generation", "Qwen/Qwen2.5-7B-Instruct", 712, 1_201_443, "transformers",
     "qwen2 conversational text-generation-inference", _HF_ONLY, {}),
    ("text-to-image", "black-forest-labs/FLUX.1-dev", 10_212, 2_103_552, "diffusers", "flux",
     ((HF, None, LIVE), _fal("fal-ai/flux/dev"), _replicate("black-forest-labs/flux-dev")),
     {"image_format": "jpeg"}),
    ("text-to-image", "CompVis/stable-diffusion-v1-4", 6_902, 701_227, "diffusers", "stable-diffusion",
     _HF_ONLY, {"image_format": "jpeg"}),
    ("text-to-image", "stabilityai/stable-diffusion-xl-base-1.0", 6_511, 2_012_448, "diffusers",
     "stable-diffusion-xl",
     ((HF, None, LIVE), _replicate(
         "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc", "staging")),
     {"image_format": "png"}),
    ("text-to-image", "black-forest-labs/FLUX.1-schnell", 4_012, 1_602_773, "diffusers", "flux",
     ((HF, None, LIVE), _fal("fal-ai/flux/schnell")), {}),
    ("text-to-image", "stabilityai/stable-diffusion-3.5-large", 2_510, 112_004, "diffusers", "sd3",
     (_fal("fal-ai/stable-diffusion-v35-large"),), {}),
    ("text-to-speech", "suno/bark-small", 221, 88_301, "transformers", "bark", _HF_ONLY,
     {"audio_format": "wav"}),
    ("text-to-speech", "espnet/kan-bayashi_ljspeech_vits", 218, 9_446, "espnet", "vits", _HF_ONLY,
     {"audio_format": "flac"}),
    ("text-to-speech", "facebook/mms-tts-eng", 190, 301_225, "transformers", "vits", _HF_ONLY,
     {"audio_format": "flac"}),
    ("text-to-speech", "hexgrad/Kokoro-82M", 150, 1_402_337, None, "kokoro",
     (_fal("fal-ai/kokoro/american-english"), _replicate(
         "jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13")),
     {"audio_format": "wav"}),
    ("text-to-video", "tencent/HunyuanVideo", 1_612, 9_331, "diffusers", "hunyuan",
     (_fal("fal-ai/hunyuan-video"),), {}),
    ("text-to-video", "Lightricks/LTX-Video", 1_503, 201_772, "diffusers", "ltx-video",
     (_fal("fal-ai/ltx-video"),), {}),
    ("text-to-video", "Wan-AI/Wan2.1-T2V-14B", 1_301, 40_112, "diffusers", "wan",
     (_fal("fal-ai/wan-t2v"), _replicate("wavespeedai/wan-2.1-t2v-480p")), {}),
    ("text-to-video", "genmo/mochi-1-preview", 1_204, 12_330, "diffusers", "mochi",
     (_fal("fal-ai/mochi-v1"),), {}),
    ("token-classification", "dslim/bert-base-NER", 602, 2_101_335, "transformers", "bert ner", _HF_ONLY,
     {}),
    ("token-classification", "FacebookAI/xlm-roberta-large-finetuned-conll03-english", 152, 301_229,
     "transformers", "xlm-roberta ner", _HF_ONLY, {}),
    ("token-classification", "dbmdz/bert-large-cased-finetuned-conll03-english", 80, 1_801_330,
     "transformers", "bert ner", _HF_ONLY, {}),
    ("translation", "Helsinki-NLP/opus-mt-en-fr", 521, 901_776, "transformers", "marian", _HF_ONLY,
     {"lang": "fr"}),
    ("translation", "google-t5/t5-small", 452, 5_747_624, "transformers", "t5 text2text-generation",
     _HF_ONLY, {"lang": "de"}),
    ("translation", "facebook/mbart-large-50-many-to-many-mmt", 401, 301_442, "transformers", "mbart",
     _HF_ONLY, {"lang": "en"}),
    ("translation", "Helsinki-NLP/opus-mt-en-de", 301, 705_118, "transformers", "marian", _HF_ONLY,
     {"lang": "de"}),
    ("visual-question-answering", "dandelin/vilt-b32-finetuned-vqa", 401, 201_553, "transformers", "vilt",
     _HF_ONLY, {}),
    ("visual-question-answering", "Salesforce/blip-vqa-base", 152, 188_220, "transformers", "blip",
     _HF_ONLY, {}),
    ("visual-question-answering", "Salesforce/blip-vqa-capfilt-large", 61, 30_117, "transformers", "blip",
     _HF_ONLY, {}),
    ("zero-shot-classification", "facebook/bart-large-mnli", 1_402, 3_201_448, "transformers", "bart",
     _HF_ONLY, {}),
    ("zero-shot-classification", "MoritzLaurer/mDeBERTa-v3-base-mnli-xnli", 301, 402_119, "transformers",
     "deberta-v2", _HF_ONLY, {}),
    ("zero-shot-classification", "MoritzLaurer/DeBERTa-v3-base-mnli-fever-anli", 201, 301_887,
     "transformers", "deberta-v2", _HF_ONLY, {}),
    ("zero-shot-image-classification", "openai/clip-vit-large-patch14", 1_701, 9_101_337, "transformers",
     "clip", _HF_ONLY, {}),
    ("zero-shot-image-classification", "openai/clip-vit-base-patch32", 702, 14_229_118, "transformers",
     "clip", _HF_ONLY, {}),
    ("zero-shot-image-classification", "google/siglip-so400m-patch14-384", 501, 2_101_774, "transformers",
     "siglip", _HF_ONLY, {}),
    ("zero-shot-image-classification", "laion/CLIP-ViT-H-14-laion2B-s32B-b79K", 402, 1_201_118, "open_clip",
     "clip", _HF_ONLY, {}),
]  # fmt: skip

TASKS: tuple[str, ...] = tuple(dict.fromkeys(row[0] for row in _ROWS))


def _build() -> dict[str, list[dict[str, Any]]]:
    catalog: dict[str, list[dict[str, Any]]] = {task: [] for task in TASKS}
    for task, model_id, likes, downloads, library, tags, providers, knobs in _ROWS:
        catalog[task].append(model_entry(model_id, task, likes, downloads, library, tags, providers, **knobs))
    for models in catalog.values():
        models.sort(key=lambda m: -m["likes"])
    return catalog


DEFAULT_CATALOG: dict[str, list[dict[str, Any]]] = _build()

# Old ids the Hub redirects (307) to their canonical repo, as it does for `t5-small`.
DEFAULT_ALIASES: dict[str, str] = {
    "t5-small": "google-t5/t5-small",
    "gpt2": "openai-community/gpt2",
    "bert-base-uncased": "google-bert/bert-base-uncased",
    "roberta-base": "FacebookAI/roberta-base",
    "distilbert-base-uncased-finetuned-sst-2-english": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
}


def fresh_catalog() -> dict[str, list[dict[str, Any]]]:
    """A deep copy of the default catalog, safe to mutate."""
    return copy.deepcopy(DEFAULT_CATALOG)
