from .context import ForwardContext, vector_jacobians
from .multimodal_recognizer import MultiModalRecognizer, summed_losses

__all__ = ['ForwardContext', 'MultiModalRecognizer', 'summed_losses',
           'vector_jacobians']
