Code.require_file("../T.exs", __DIR__)
for reason <- [:killed, :shutdown, {:shutdown, :x}, :noproc] do
  T.run(fn ->
    spawn_link(fn -> exit(reason) end)
    T.settle()
  end)
end
T.done()
