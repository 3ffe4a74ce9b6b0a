"""The model file: typed structure, YAML loading with positions, JSON Schema."""

from leadscore.spec.loader import LoadedModel, dump_model_yaml, load_model, load_model_text, model_from_dict
from leadscore.spec.model import ScoringModel

__all__ = ["LoadedModel", "ScoringModel", "dump_model_yaml", "load_model", "load_model_text",
           "model_from_dict"]
