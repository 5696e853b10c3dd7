import numpy as np
import json
from safetensors.numpy import load_file
from transformers import BertConfig, TFAutoModel, AutoTokenizer
from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model
from clinic_nlu.minilm import MiniLMEncoder, default_model_dir

d = default_model_dir()
cfg = BertConfig.from_json_file(str(d / "config.json"))
m = TFAutoModel.from_config(cfg)
m(m.dummy_inputs)
sd = {k if k.startswith("bert.") else "bert." + k: v for k, v in load_file(str(d / "model.safetensors")).items()}
load_pytorch_state_dict_in_tf2_model(m, sd, allow_missing_keys=True)
tok = AutoTokenizer.from_pretrained(str(d))
s = ["how long is recovery", "when can i go back to work after the op", "what is the weather today", "is it safe"]
enc = tok(s, padding=True, return_tensors="tf")
out = m(**enc).last_hidden_state.numpy()
mask = enc["attention_mask"].numpy()[..., None]
ref = (out * mask).sum(1) / mask.sum(1)
ref /= np.linalg.norm(ref, axis=1, keepdims=True)
mine = MiniLMEncoder().encode_texts(s)
print("max abs diff", np.abs(ref - mine).max())
print(np.round(ref @ ref.T, 3))
import sys

if len(sys.argv) > 1:
    json.dump(
        {
            "generated_by": "transformers==4.36.2 TFBertModel + mean pooling + L2 norm (bench/verify_minilm.py)",
            "sentences": s,
            "embeddings": [[round(float(x), 7) for x in row] for row in ref],
        },
        open(sys.argv[1], "w"),
    )
    print("wrote", sys.argv[1])
