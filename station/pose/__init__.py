"""pose"""
