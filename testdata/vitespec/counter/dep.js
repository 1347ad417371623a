// This module never loads.
if (import.meta.hot) import.meta.hot.accept(() => {});
