from .multimodal_recognizer import MultiModalRecognizer, summed_losses

__all__ = ['MultiModalRecognizer', 'summed_losses']
