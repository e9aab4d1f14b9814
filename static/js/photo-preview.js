/* A file input with data-preview="<list id>" shows the chosen photos as thumbnails in that list,
   each with its file name as the alt text, so that the person sees what will be sent. */
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var list = document.getElementById(input.dataset.preview);
    var urls = [];
    input.addEventListener("change", function () {
      urls.forEach(URL.revokeObjectURL);
      urls = [];
      list.replaceChildren();
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        urls.push(img.src);
        item.append(img);
        list.append(item);
      });
    });
  });
})();
